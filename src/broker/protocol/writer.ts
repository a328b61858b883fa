// Builds a response as a list of Buffers: primitives go into a scratch buffer, large byte
// fields (fetched record batches) are appended as they are, so a Fetch response never copies
// the log's bytes.

const TWO_32 = 2 ** 32;
const CHUNK = 16 * 1024;
/** Byte fields at least this large are referenced, not copied. */
const ZERO_COPY_MIN = 4096;

/**
 * Writes Kafka protocol primitives, chainable, in both encodings (classic and flexible).
 *
 * @example
 * const chunks = new Writer().int32(correlationId).int16(0).compactString('ok').chunks();
 */
export class Writer {
  private readonly done: Buffer[] = [];
  private buf: Buffer;
  private pos = 0;
  private doneBytes = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.doneBytes + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.seal();
    this.buf = Buffer.allocUnsafe(Math.max(n, CHUNK));
  }

  private seal(): void {
    if (this.pos === 0) return;
    const filled = this.buf.subarray(0, this.pos);
    this.done.push(filled);
    this.doneBytes += filled.length;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /** An int64 from a JS number (exact within ±2^53). */
  int64(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * TWO_32, this.pos + 4);
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  uuid(v: Buffer | null | undefined): this {
    this.ensure(16);
    if (v && v.length === 16) v.copy(this.buf, this.pos);
    else this.buf.fill(0, this.pos, this.pos + 16);
    this.pos += 16;
    return this;
  }

  uvarint(v: number): this {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Classic string: int16 length, -1 for null. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const len = Buffer.byteLength(v, 'utf8');
    this.int16(len);
    return this.utf8(v, len);
  }

  /** Flexible string: uvarint length + 1, 0 for null. */
  compactString(v: string | null): this {
    if (v === null) return this.uvarint(0);
    const len = Buffer.byteLength(v, 'utf8');
    this.uvarint(len + 1);
    return this.utf8(v, len);
  }

  /** Classic bytes: int32 length, -1 for null. */
  bytes(v: Uint8Array | null): this {
    if (v === null) return this.int32(-1);
    return this.int32(v.length).raw(v);
  }

  /** Flexible bytes: uvarint length + 1, 0 for null. */
  compactBytes(v: Uint8Array | null): this {
    if (v === null) return this.uvarint(0);
    return this.uvarint(v.length + 1).raw(v);
  }

  /** Array length, classic (int32) or flexible (uvarint + 1); -1 writes null. */
  arrayLength(n: number, flexible: boolean): this {
    return flexible ? this.uvarint(n + 1) : this.int32(n);
  }

  /** An empty tagged-field section: this broker sends no optional tagged fields. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Appends bytes as they are: large ones by reference (do not modify them afterwards). */
  raw(v: Uint8Array): this {
    if (v.length >= ZERO_COPY_MIN) {
      this.seal();
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
      this.done.push(b);
      this.doneBytes += b.length;
      return this;
    }
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  /** The bytes written, as a list of Buffers (no copy). The Writer must not be used afterwards. */
  chunks(): Buffer[] {
    this.seal();
    return this.done;
  }

  /** The bytes written as one Buffer (copies when there is more than one chunk). */
  toBuffer(): Buffer {
    const chunks = this.chunks();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.doneBytes);
  }

  private utf8(v: string, len: number): this {
    this.ensure(len);
    this.buf.write(v, this.pos, len, 'utf8');
    this.pos += len;
    return this;
  }
}
