// A small Parquet writer for training sets: flat schemas of DOUBLE, INT64 (also as a UTC
// millisecond TIMESTAMP), BOOLEAN and UTF-8 BYTE_ARRAY columns, required or optional (nulls as
// definition levels), PLAIN-encoded v1 data pages, uncompressed or GZIP, and the footer in
// Thrift's compact protocol — written from apache/parquet-format's parquet.thrift. Rows are
// buffered one row group at a time in typed arrays and written as the group fills, so a set of
// millions of rows never lives in memory as objects. Other readers (hyparquet, pyarrow, DuckDB,
// pandas) read it; the tests check every value with hyparquet.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SluiceError } from './errors.js';
import { CT, ThriftWriter } from './thrift-compact.js';

/** A column's values: numbers (double), safe integers (int64), epoch ms (timestamp-ms), booleans, strings. */
export type ParquetColumnType = 'double' | 'int64' | 'timestamp-ms' | 'boolean' | 'string';

export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
  /** Nulls allowed (null or undefined in a row); default false: a missing value throws. */
  optional?: boolean;
}

export interface ParquetWriterOptions {
  /** Rows per row group (buffered in memory until written). Default 65,536. */
  rowGroupRows?: number;
  /** Rows per data page within a column chunk. Default 8,192. */
  pageRows?: number;
  /** Page compression: 'none' (default) or 'gzip' (node:zlib; Parquet's GZIP codec). */
  compression?: 'none' | 'gzip';
  /** Key/value pairs stored in the footer (e.g. where the set came from). */
  metadata?: Record<string, string>;
}

// Parquet's enum values (parquet.thrift).
const TYPE = { BOOLEAN: 0, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
const PLAIN = 0;
const RLE = 3;
const CONVERTED_UTF8 = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;
const physical = (t: ParquetColumnType) =>
  t === 'double'
    ? TYPE.DOUBLE
    : t === 'boolean'
      ? TYPE.BOOLEAN
      : t === 'string'
        ? TYPE.BYTE_ARRAY
        : TYPE.INT64;

/** One row group's values of a column: numbers (or 0/1) in a typed array, strings in an array. */
interface ColumnBuffer {
  col: ParquetColumn;
  num: Float64Array | undefined;
  str: string[] | undefined;
  /** 1 where the row has a value (optional columns only). */
  defined: Uint8Array | undefined;
}

interface ChunkMeta {
  offset: number;
  values: number;
  uncompressed: number;
  compressed: number;
}

const invalid = (message: string) => new SluiceError('SLUICE_OPTION_INVALID', message);

/**
 * Writes a Parquet file row by row; call close() to write the last row group and the footer.
 *
 * @example
 * const w = new ParquetWriter('set.parquet', [
 *   { name: 'event_time', type: 'timestamp-ms' },
 *   { name: 'label', type: 'int64' },
 *   { name: 'amount', type: 'double' },
 * ]);
 * const row: unknown[] = [];
 * for (const t of rows) { row[0] = t.ts; row[1] = t.fraud; row[2] = t.amount; w.appendRow(row); }
 * w.close();
 */
export class ParquetWriter {
  /** Rows written so far (all row groups). */
  rows = 0;
  private readonly fd: number;
  private pos = 0;
  private inGroup = 0;
  private readonly groupRows: number;
  private readonly pageRows: number;
  private readonly gzip: boolean;
  private readonly buffers: ColumnBuffer[];
  private readonly groups: { rows: number; chunks: ChunkMeta[] }[] = [];
  private closed = false;

  constructor(
    readonly path: string,
    readonly columns: readonly ParquetColumn[],
    private readonly opts: ParquetWriterOptions = {},
  ) {
    const names = new Set(columns.map((c) => c.name));
    if (columns.length === 0 || names.size !== columns.length || names.has(''))
      throw invalid(`ParquetWriter ${path}: columns need distinct, non-empty names`);
    this.groupRows = opts.rowGroupRows ?? 65_536;
    this.pageRows = Math.min(opts.pageRows ?? 8_192, this.groupRows);
    if (!(this.groupRows >= 1 && this.pageRows >= 1))
      throw invalid(`ParquetWriter ${path}: rowGroupRows and pageRows must be at least 1`);
    this.gzip = opts.compression === 'gzip';
    this.buffers = columns.map((col) => ({
      col,
      num: col.type === 'string' ? undefined : new Float64Array(this.groupRows),
      str: col.type === 'string' ? new Array<string>(this.groupRows) : undefined,
      defined: col.optional ? new Uint8Array(this.groupRows) : undefined,
    }));
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    this.write(Buffer.from('PAR1'));
  }

  /** Appends one row: values in column order (the array may be reused for the next row). */
  appendRow(values: ArrayLike<unknown>): void {
    const i = this.inGroup;
    for (let c = 0; c < this.buffers.length; c++) {
      const b = this.buffers[c]!;
      const v = values[c];
      if (v === null || v === undefined) {
        if (!b.defined)
          throw invalid(`Parquet column ${b.col.name} is required: row ${this.rows} has no value`);
        b.defined[i] = 0;
        continue;
      }
      if (b.defined) b.defined[i] = 1;
      if (b.str) b.str[i] = typeof v === 'string' ? v : String(v);
      else b.num![i] = this.number(b.col, v);
    }
    this.rows++;
    if (++this.inGroup === this.groupRows) this.flushGroup();
  }

  private number(col: ParquetColumn, v: unknown): number {
    const x =
      typeof v === 'number'
        ? v
        : typeof v === 'boolean'
          ? Number(v)
          : v instanceof Date
            ? v.getTime()
            : typeof v === 'bigint'
              ? Number(v)
              : NaN;
    if (
      col.type === 'double'
        ? typeof v === 'number'
        : Number.isSafeInteger(x) && (col.type !== 'boolean' || x === 0 || x === 1)
    )
      return x;
    throw invalid(`Parquet column ${col.name} (${col.type}): row ${this.rows} has ${String(v)}`);
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.pos + done);
    this.pos += bytes.length;
  }

  /** Writes the buffered rows as one row group: a column chunk of data pages per column. */
  private flushGroup(): void {
    const n = this.inGroup;
    if (n === 0) return;
    const chunks: ChunkMeta[] = [];
    for (const b of this.buffers) {
      const chunk: ChunkMeta = { offset: this.pos, values: n, uncompressed: 0, compressed: 0 };
      for (let from = 0; from < n; from += this.pageRows) {
        const to = Math.min(n, from + this.pageRows);
        const page = encodePage(b, from, to);
        const body = this.gzip ? gzipSync(page) : page;
        const header = new ThriftWriter()
          .i32Field(1, 0) // DATA_PAGE
          .i32Field(2, page.length)
          .i32Field(3, body.length)
          .structField(5) // DataPageHeader
          .i32Field(1, to - from)
          .i32Field(2, PLAIN)
          .i32Field(3, RLE)
          .i32Field(4, RLE)
          .stop()
          .stop()
          .bytes();
        this.write(header);
        this.write(body);
        chunk.uncompressed += header.length + page.length;
        chunk.compressed += header.length + body.length;
      }
      chunks.push(chunk);
    }
    this.groups.push({ rows: n, chunks });
    this.inGroup = 0;
  }

  /** Writes the last row group and the footer, and closes the file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flushGroup();
      const footer = this.footer();
      this.write(footer);
      const tail = Buffer.alloc(8);
      tail.writeUInt32LE(footer.length, 0);
      tail.write('PAR1', 4, 'latin1');
      this.write(tail);
    } finally {
      closeSync(this.fd);
    }
  }

  /** FileMetaData: version, schema (a root group, then one leaf per column), row groups. */
  private footer(): Buffer {
    const t = new ThriftWriter().i32Field(1, 1).listField(2, CT.STRUCT, this.columns.length + 1);
    t.structBegin().binaryField(4, 'schema').i32Field(5, this.columns.length).stop();
    for (const c of this.columns) {
      t.structBegin()
        .i32Field(1, physical(c.type))
        .i32Field(3, c.optional ? 1 : 0)
        .binaryField(4, c.name);
      if (c.type === 'string') t.i32Field(6, CONVERTED_UTF8).structField(10).structField(1).stop().stop();
      if (c.type === 'timestamp-ms')
        t.i32Field(6, CONVERTED_TIMESTAMP_MILLIS)
          .structField(10)
          .structField(8) // TimestampType
          .boolField(1, true)
          .structField(2) // TimeUnit
          .structField(1) // MILLIS
          .stop()
          .stop()
          .stop()
          .stop();
      t.stop();
    }
    t.i64Field(3, this.rows).listField(4, CT.STRUCT, this.groups.length);
    for (const g of this.groups) {
      t.structBegin().listField(1, CT.STRUCT, g.chunks.length);
      g.chunks.forEach((ch, i) => {
        const c = this.columns[i]!;
        t.structBegin().i64Field(2, ch.offset).structField(3).i32Field(1, physical(c.type));
        t.listField(2, CT.I32, c.optional ? 2 : 1).i32(PLAIN);
        if (c.optional) t.i32(RLE);
        t.listField(3, CT.BINARY, 1).binary(c.name);
        t.i32Field(4, this.gzip ? 2 : 0)
          .i64Field(5, ch.values)
          .i64Field(6, ch.uncompressed)
          .i64Field(7, ch.compressed)
          .i64Field(9, ch.offset)
          .stop()
          .stop();
      });
      t.i64Field(
        2,
        g.chunks.reduce((a, ch) => a + ch.uncompressed, 0),
      )
        .i64Field(3, g.rows)
        .i64Field(5, g.chunks[0]!.offset)
        .i64Field(
          6,
          g.chunks.reduce((a, ch) => a + ch.compressed, 0),
        )
        .stop();
    }
    const meta = Object.entries(this.opts.metadata ?? {});
    if (meta.length > 0) {
      t.listField(5, CT.STRUCT, meta.length);
      for (const [k, v] of meta) t.structBegin().binaryField(1, k).binaryField(2, v).stop();
    }
    return Buffer.from(t.binaryField(6, 'sluice parquet-writer').stop().bytes());
  }
}

/** A v1 data page of rows [from, to): definition levels (optional columns), then PLAIN values. */
function encodePage(b: ColumnBuffer, from: number, to: number): Buffer {
  const n = to - from;
  let present = n;
  let levels: Buffer | undefined;
  if (b.defined) {
    present = 0;
    for (let i = from; i < to; i++) present += b.defined[i]!;
    levels = definitionLevels(b.defined, from, to, present === n);
  }
  const values = plainValues(b, from, to, present);
  if (!levels) return values;
  const page = Buffer.allocUnsafe(4 + levels.length + values.length);
  page.writeUInt32LE(levels.length, 0);
  levels.copy(page, 4);
  values.copy(page, 4 + levels.length);
  return page;
}

/**
 * Levels of bit width 1 in the RLE/bit-packing hybrid: one RLE run of 1s when every row has a
 * value, else one bit-packed run (8 levels a byte, least significant bit first).
 */
function definitionLevels(defined: Uint8Array, from: number, to: number, all: boolean): Buffer {
  const n = to - from;
  if (all) return Buffer.concat([uleb(n * 2), Buffer.of(1)]);
  const groups = Math.ceil(n / 8);
  const bits = Buffer.alloc(groups);
  for (let i = 0; i < n; i++) if (defined[from + i]) bits[i >> 3]! |= 1 << (i & 7);
  return Buffer.concat([uleb(groups * 2 + 1), bits]);
}

function uleb(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** PLAIN values of the rows that have one: 8-byte LE numbers, bit-packed booleans, length-prefixed UTF-8. */
function plainValues(b: ColumnBuffer, from: number, to: number, present: number): Buffer {
  const has = (i: number) => !b.defined || b.defined[i] === 1;
  if (b.str) {
    const parts: Buffer[] = [];
    for (let i = from; i < to; i++) {
      if (!has(i)) continue;
      const s = Buffer.from(b.str[i]!, 'utf8');
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32LE(s.length, 0);
      parts.push(len, s);
    }
    return Buffer.concat(parts);
  }
  const num = b.num!;
  if (b.col.type === 'boolean') {
    const out = Buffer.alloc(Math.ceil(present / 8));
    let k = 0;
    for (let i = from; i < to; i++) {
      if (!has(i)) continue;
      if (num[i]) out[k >> 3]! |= 1 << (k & 7);
      k++;
    }
    return out;
  }
  const out = Buffer.allocUnsafe(present * 8);
  let at = 0;
  for (let i = from; i < to; i++) {
    if (!has(i)) continue;
    const x = num[i]!;
    if (b.col.type === 'double') out.writeDoubleLE(x, at);
    else {
      // A safe integer as two's-complement int64 without BigInt: high word, then the low 32 bits.
      const hi = Math.floor(x / 0x1_0000_0000);
      out.writeUInt32LE(x - hi * 0x1_0000_0000, at);
      out.writeInt32LE(hi, at + 4);
    }
    at += 8;
  }
  return out;
}
