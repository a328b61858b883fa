// A cursor over one request frame. Every read checks bounds and throws MalformedRequestError,
// so a hostile or truncated frame can never read past its end or allocate from a bogus length.

import { MalformedRequestError } from '../errors.js';

const TWO_32 = 2 ** 32;

/**
 * Reads Kafka protocol primitives, in both encodings: classic (int16/int32 lengths) and
 * flexible (KIP-482: unsigned-varint lengths + 1, tagged fields).
 *
 * @example
 * const r = new Reader(frame);
 * const apiKey = r.int16(), apiVersion = r.int16(), correlationId = r.int32();
 */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    pos = 0,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): number {
    const at = this.pos;
    if (n < 0 || at + n > this.buf.length) {
      throw new MalformedRequestError(
        `truncated request: ${what} needs ${n} bytes at position ${at}, only ${this.buf.length - at} left`,
      );
    }
    this.pos = at + n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1, 'int8'));
  }

  bool(): boolean {
    return this.buf[this.need(1, 'bool')] !== 0;
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2, 'int16'));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.need(2, 'uint16'));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4, 'int32'));
  }

  /** An int64 as a JS number: exact within ±2^53, which holds every offset and timestamp. */
  int64(): number {
    const at = this.need(8, 'int64');
    return this.buf.readInt32BE(at) * TWO_32 + this.buf.readUInt32BE(at + 4);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.need(8, 'float64'));
  }

  uuid(): Buffer {
    const at = this.need(16, 'uuid');
    return Buffer.from(this.buf.subarray(at, at + 16));
  }

  /** Unsigned varint (up to 32 bits), as used for flexible lengths and tag numbers. */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf[this.need(1, 'varint')];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new MalformedRequestError(`varint longer than 5 bytes at position ${this.pos}`);
  }

  /** Classic string: int16 length; -1 (null) only when `nullable`. */
  string(nullable = false): string | null {
    return this.text(this.int16(), nullable);
  }

  /** Flexible string: uvarint length + 1; 0 (null) only when `nullable`. */
  compactString(nullable = false): string | null {
    return this.text(this.uvarint() - 1, nullable);
  }

  /** Classic bytes: int32 length; -1 (null) only when `nullable`. Returns a view, not a copy. */
  bytes(nullable = false): Buffer | null {
    return this.blob(this.int32(), nullable);
  }

  /** Flexible bytes: uvarint length + 1. Returns a view, not a copy. */
  compactBytes(nullable = false): Buffer | null {
    return this.blob(this.uvarint() - 1, nullable);
  }

  /** Array length, classic (int32) or flexible (uvarint + 1); -1 means null. */
  arrayLength(flexible: boolean, nullable: boolean): number {
    const n = flexible ? this.uvarint() - 1 : this.int32();
    if (n === -1) {
      if (nullable) return -1;
      throw new MalformedRequestError(`null array where the schema allows none, at position ${this.pos}`);
    }
    // Every element takes at least one byte: a larger count is a lie, refuse before allocating.
    if (n < -1 || n > this.remaining) {
      throw new MalformedRequestError(
        `array length ${n} at position ${this.pos} exceeds the ${this.remaining} bytes left`,
      );
    }
    return n;
  }

  /** Skips a tagged-field section (KIP-482): count, then (tag, size, bytes) per field. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.need(this.uvarint(), 'tagged field');
    }
  }

  private text(len: number, nullable: boolean): string | null {
    if (len === -1 && nullable) return null;
    if (len < 0) throw new MalformedRequestError(`invalid string length ${len} at position ${this.pos}`);
    const at = this.need(len, 'string');
    return this.buf.toString('utf8', at, at + len);
  }

  private blob(len: number, nullable: boolean): Buffer | null {
    if (len === -1 && nullable) return null;
    if (len < 0) throw new MalformedRequestError(`invalid bytes length ${len} at position ${this.pos}`);
    const at = this.need(len, 'bytes');
    return this.buf.subarray(at, at + len);
  }
}
