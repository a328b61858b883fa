// Splits a TCP byte stream into Kafka frames: int32 size, then that many bytes. Chunks are
// kept in a list and joined once per frame, so a large request costs one copy, not one per read.

import { BrokerError } from '../errors.js';

const EMPTY = Buffer.alloc(0);

/**
 * Accumulates socket data and yields whole frames (without their size prefix).
 *
 * @example
 * const frames = new FrameDecoder(100 << 20);
 * socket.on('data', (chunk) => { for (const f of frames.push(chunk)) handle(f); });
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  /**
   * @param maxFrameBytes largest frame accepted; checked on the 4-byte size prefix, before
   *   any of the frame is buffered. May be changed between frames (see {@link setLimit}).
   * @param limitName the option that sets the limit, named in the error.
   */
  constructor(
    private maxFrameBytes: number,
    private limitName = 'maxRequestBytes',
  ) {}

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.buffered;
  }

  /** Changes the largest frame accepted from the next size prefix on. */
  setLimit(maxFrameBytes: number, limitName: string): void {
    this.maxFrameBytes = maxFrameBytes;
    this.limitName = limitName;
  }

  /** Adds `chunk`; returns the frames it completes. Throws on a size that is negative or over the limit. */
  push(chunk: Buffer): Buffer[] {
    this.add(chunk);
    const frames: Buffer[] = [];
    for (let f = this.next(); f !== null; f = this.next()) frames.push(f);
    return frames;
  }

  /** Adds `chunk` without taking frames out (see {@link next}). */
  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole frame, or null until more bytes arrive. Throws on a size that is negative or over the limit. */
  next(): Buffer | null {
    if (this.expected < 0) {
      if (this.buffered < 4) return null;
      const size = this.peekSize();
      if (size < 0 || size > this.maxFrameBytes) {
        throw new BrokerError(
          'SLUICE_BROKER_REQUEST_TOO_LARGE',
          `request size ${size} is outside 0..${this.maxFrameBytes} bytes (${this.limitName}); closing the connection`,
        );
      }
      this.take(4);
      this.expected = size;
    }
    if (this.buffered < this.expected) return null;
    const frame = this.take(this.expected);
    this.expected = -1;
    return frame;
  }
  private peekSize(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    return this.join(4).readInt32BE(0);
  }

  /** Makes the first `n` buffered bytes one Buffer at chunks[0]. */
  private join(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length >= n) return first;
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const head = this.join(n);
    const out = head.subarray(0, n);
    if (head.length === n) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.buffered -= n;
    return out;
  }
}
