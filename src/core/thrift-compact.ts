// A writer of Thrift's compact protocol, the encoding of Parquet's page headers and footer
// (apache/parquet-format parquet.thrift). Only what those structs use: i32, i64, binary/string,
// bool, lists and nested structs. Field headers carry the id as a delta from the previous field
// of the same struct when it is 1..15, so a stack of "last field id" follows the nesting.

/** Compact-protocol type ids (the low nibble of a field header or list header). */
export const CT = {
  TRUE: 1,
  FALSE: 2,
  I32: 5,
  I64: 6,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

/**
 * Builds one compact-protocol message into a growing buffer.
 *
 * @example
 * const t = new ThriftWriter();
 * t.i32Field(1, 0).i32Field(2, 100).stop(); // a struct with two i32 fields
 * const bytes = t.bytes();
 */
export class ThriftWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  private last = 0;
  private readonly stack: number[] = [];

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned LEB128 of a non-negative integer up to 2^53 (plain numbers: no BigInt needed). */
  private varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** Zigzag: 0, -1, 1, -2 … → 0, 1, 2, 3 …, for integers within ±2^52. */
  private zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  private header(id: number, type: number): void {
    const delta = id - this.last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.last = id;
  }

  i32Field(id: number, v: number): this {
    this.header(id, CT.I32);
    this.zigzag(v);
    return this;
  }

  i64Field(id: number, v: number): this {
    this.header(id, CT.I64);
    this.zigzag(v);
    return this;
  }

  boolField(id: number, v: boolean): this {
    this.header(id, v ? CT.TRUE : CT.FALSE);
    return this;
  }

  binaryField(id: number, v: string | Uint8Array): this {
    this.header(id, CT.BINARY);
    this.binary(v);
    return this;
  }

  /** Starts a struct-valued field; end it with stop(). */
  structField(id: number): this {
    this.header(id, CT.STRUCT);
    return this.structBegin();
  }

  /** Starts a struct that is a list element (no field header); end it with stop(). */
  structBegin(): this {
    this.stack.push(this.last);
    this.last = 0;
    return this;
  }

  /** Ends the current struct (the top-level message too). */
  stop(): this {
    this.byte(0);
    this.last = this.stack.pop() ?? 0;
    return this;
  }

  /** A list field's header; the caller then writes `size` elements of `elemType`. */
  listField(id: number, elemType: number, size: number): this {
    this.header(id, CT.LIST);
    if (size < 15) this.byte((size << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.varint(size);
    }
    return this;
  }

  /** A list element of type I32. */
  i32(v: number): this {
    this.zigzag(v);
    return this;
  }

  /** A list element (or field value) of type BINARY: length, then the bytes (strings as UTF-8). */
  binary(v: string | Uint8Array): this {
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** The message so far (a view: copy it before writing more). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** A decoded compact-protocol struct: field id → value (numbers, Buffers, booleans, lists, structs). */
export interface ThriftStruct {
  [field: number]: ThriftValue;
}
export type ThriftValue = number | boolean | Buffer | ThriftValue[] | ThriftStruct;

/**
 * Reads compact-protocol structs into plain objects keyed by field id, skipping nothing: every
 * field is decoded (i64 as a number, exact up to 2^53), so unknown fields are simply unused.
 *
 * @example
 * const { value, end } = readThriftStruct(footerBytes, 0);
 * const numRows = value[3] as number; // FileMetaData.num_rows
 */
export function readThriftStruct(buf: Buffer, pos: number): { value: ThriftStruct; end: number } {
  const r = { buf, pos };
  const value = struct(r);
  return { value, end: r.pos };
}

interface Cursor {
  buf: Buffer;
  pos: number;
}

function uvarint(r: Cursor): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (r.pos >= r.buf.length) throw new RangeError('thrift: truncated varint');
    const b = r.buf[r.pos++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) return n;
    scale *= 0x80;
  }
}

const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

function value(r: Cursor, type: number): ThriftValue {
  switch (type) {
    case CT.TRUE:
      return true;
    case CT.FALSE:
      return false;
    case 3: // byte
      return r.buf.readInt8(r.pos++);
    case 4: // i16
    case CT.I32:
    case CT.I64:
      return unzigzag(uvarint(r));
    case 7: {
      const d = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      return d;
    }
    case CT.BINARY: {
      const len = uvarint(r);
      if (r.pos + len > r.buf.length) throw new RangeError('thrift: truncated binary');
      const b = r.buf.subarray(r.pos, r.pos + len);
      r.pos += len;
      return b;
    }
    case CT.LIST:
    case 10: {
      // set: the same layout as a list
      const head = r.buf[r.pos++]!;
      const size = head >> 4 === 15 ? uvarint(r) : head >> 4;
      const elem = head & 0x0f;
      const out: ThriftValue[] = [];
      // A list of booleans holds one byte each (1 true, 2 false... or 0 false in some writers).
      for (let i = 0; i < size; i++)
        out.push(elem === CT.TRUE || elem === CT.FALSE ? r.buf[r.pos++] === 1 : value(r, elem));
      return out;
    }
    case 11: {
      // map: read and dropped as a list of [key, value] pairs
      const size = uvarint(r);
      if (size === 0) return [];
      const kinds = r.buf[r.pos++]!;
      const out: ThriftValue[] = [];
      for (let i = 0; i < size; i++) out.push([value(r, kinds >> 4), value(r, kinds & 0x0f)]);
      return out;
    }
    case CT.STRUCT:
      return struct(r);
    default:
      throw new RangeError(`thrift: unknown compact type ${type}`);
  }
}

function struct(r: Cursor): ThriftStruct {
  const out: ThriftStruct = {};
  let last = 0;
  for (;;) {
    const head = r.buf[r.pos++];
    if (head === undefined) throw new RangeError('thrift: truncated struct');
    if (head === 0) return out;
    const type = head & 0x0f;
    const id = head >> 4 === 0 ? unzigzag(uvarint(r)) : last + (head >> 4);
    out[id] = value(r, type);
    last = id;
  }
}
