// Reads back the Parquet subset ParquetWriter writes — a flat schema, PLAIN-encoded v1 data pages,
// uncompressed or GZIP — so `sluice features diff` can compare Parquet training sets without a
// dependency. Files from other writers that use dictionary or other encodings, other codecs or
// nested columns are refused with a message that says so (convert them to CSV first).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { SluiceError } from './errors.js';
import { readThriftStruct, type ThriftStruct, type ThriftValue } from './thrift-compact.js';

/** A column's values: numbers (INT64 as numbers: exact up to 2^53), booleans, strings, or null. */
export type ParquetCell = number | boolean | string | null;

export interface ParquetTable {
  columns: { name: string; type: string; timestampMs: boolean }[];
  /** Row-major cells. */
  rows: ParquetCell[][];
}

const TYPES = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];
const CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];

const num = (v: ThriftValue | undefined) => (typeof v === 'number' ? v : 0);
const str = (v: ThriftValue | undefined) => (Buffer.isBuffer(v) ? v.toString('utf8') : '');

/**
 * Reads a whole Parquet file of the subset above into rows.
 *
 * @example
 * const { columns, rows } = readParquet('training-set.parquet');
 * console.log(columns.map((c) => c.name), rows.length);
 */
export function readParquet(path: string): ParquetTable {
  const fail = (why: string) => new SluiceError('SLUICE_OPTION_INVALID', `${path}: ${why}`);
  const buf = readFileSync(path);
  if (
    buf.length < 12 ||
    buf.toString('latin1', 0, 4) !== 'PAR1' ||
    buf.toString('latin1', buf.length - 4) !== 'PAR1'
  )
    throw fail('not a Parquet file (no PAR1 magic)');
  const footerLen = buf.readUInt32LE(buf.length - 8);
  const meta = readThriftStruct(buf, buf.length - 8 - footerLen).value;
  const schema = (meta[2] as ThriftStruct[]).slice(1);
  if (schema.some((s) => s[1] === undefined || s[5] !== undefined || s[3] === 2))
    throw fail('nested or repeated columns: features diff reads flat tables');
  const columns = schema.map((s) => ({
    name: str(s[4]),
    type: TYPES[num(s[1])]!,
    optional: s[3] === 1,
    timestampMs: s[6] === 9 || (s[10] as ThriftStruct | undefined)?.[8] !== undefined,
  }));
  const rows: ParquetCell[][] = [];
  for (const group of (meta[4] as ThriftStruct[] | undefined) ?? []) {
    const n = num(group[3]);
    const base = rows.length;
    for (let i = 0; i < n; i++) rows.push(new Array<ParquetCell>(columns.length));
    (group[1] as ThriftStruct[]).forEach((chunk, c) => {
      const md = chunk[3] as ThriftStruct;
      const codec = CODECS[num(md[4])]!;
      if (codec !== 'UNCOMPRESSED' && codec !== 'GZIP')
        throw fail(`${codec} pages: features diff reads uncompressed or GZIP`);
      let pos = num(md[9]);
      let row = base;
      while (row < base + n) {
        const { value: header, end } = readThriftStruct(buf, pos);
        const size = num(header[3]);
        const page = header[5] as ThriftStruct | undefined;
        if (num(header[1]) !== 0 || !page || num(page[2]) !== 0)
          throw fail(`column ${columns[c]!.name}: only PLAIN v1 data pages are read (as Sluice writes them)`);
        const body = buf.subarray(end, end + size);
        row = decodePage(codec === 'GZIP' ? gunzipSync(body) : body, num(page[1]), columns[c]!, rows, row, c);
        pos = end + size;
      }
    });
  }
  return { columns: columns.map(({ name, type, timestampMs }) => ({ name, type, timestampMs })), rows };
}

/** Decodes one page's `count` values into rows[row..] at column c; returns the next row. */
function decodePage(
  page: Buffer,
  count: number,
  col: { type: string; optional: boolean },
  rows: ParquetCell[][],
  row: number,
  c: number,
): number {
  let pos = 0;
  let defined: Uint8Array | undefined;
  if (col.optional) {
    const len = page.readUInt32LE(0);
    defined = levels(page.subarray(4, 4 + len), count);
    pos = 4 + len;
  }
  let bit = 0;
  for (let i = 0; i < count; i++, row++) {
    if (defined && !defined[i]) {
      rows[row]![c] = null;
      continue;
    }
    let v: ParquetCell;
    switch (col.type) {
      case 'BOOLEAN':
        v = ((page[pos + (bit >> 3)]! >> (bit & 7)) & 1) === 1;
        bit++;
        break;
      case 'INT32':
        v = page.readInt32LE(pos);
        pos += 4;
        break;
      case 'INT64':
        v = page.readInt32LE(pos + 4) * 0x1_0000_0000 + page.readUInt32LE(pos);
        pos += 8;
        break;
      case 'FLOAT':
        v = page.readFloatLE(pos);
        pos += 4;
        break;
      case 'DOUBLE':
        v = page.readDoubleLE(pos);
        pos += 8;
        break;
      case 'BYTE_ARRAY': {
        const len = page.readUInt32LE(pos);
        v = page.toString('utf8', pos + 4, pos + 4 + len);
        pos += 4 + len;
        break;
      }
      default:
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `Parquet ${col.type} columns are not read by features diff`,
        );
    }
    rows[row]![c] = v;
  }
  return row;
}

/** Definition levels of bit width 1 in the RLE/bit-packing hybrid (both run kinds). */
function levels(data: Buffer, count: number): Uint8Array {
  const out = new Uint8Array(count);
  let pos = 0;
  let at = 0;
  while (at < count && pos < data.length) {
    let header = 0;
    let scale = 1;
    for (;;) {
      const b = data[pos++]!;
      header += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (header % 2 === 0) {
      const v = data[pos++]! & 1;
      for (let k = header / 2; k > 0 && at < count; k--) out[at++] = v;
    } else {
      const bytes = (header - 1) / 2; // groups of 8 levels, one byte each at width 1
      for (let k = 0; k < bytes * 8 && at < count; k++) out[at++] = (data[pos + (k >> 3)]! >> (k & 7)) & 1;
      pos += bytes;
    }
  }
  return out;
}
