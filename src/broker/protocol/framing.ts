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

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds `chunk`; returns the frames it completes. Throws on a size that is negative or over the limit. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) break;
        const size = this.peekSize();
        if (size < 0 || size > this.maxFrameBytes) {
          throw new BrokerError(
            'BROKER_REQUEST_TOO_LARGE',
            `request size ${size} is outside 0..${this.maxFrameBytes} bytes (maxRequestBytes); closing the connection`,
          );
        }
        this.take(4);
        this.expected = size;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    return frames;
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
