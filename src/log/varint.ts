// Zigzag varints (Protocol Buffers style), as Kafka records use them, plus int64 helpers that
// work on plain JS numbers. Readers advance a shared Cursor instead of returning
// {value, pos} pairs, so decoding a record allocates nothing.

import { LogError } from './errors.js';

const TWO_32 = 4294967296;

/** A read position that varint readers advance. One per decoded batch. */
export class Cursor {
  constructor(public pos = 0) {}
}

function truncated(pos: number): LogError {
  return new LogError(
    'SLUICE_LOG_CORRUPT',
    `varint at byte ${pos} runs past the end of its buffer; the batch is truncated or corrupt and cannot be decoded`,
  );
}

/** Bytes taken by `value` (an int32) as a zigzag varint. */
export function sizeOfVarint(value: number): number {
  const u = ((value << 1) ^ (value >> 31)) >>> 0;
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

/** Writes `value` (an int32) as a zigzag varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Reads a zigzag varint (int32) at `cur.pos` and advances the cursor. */
export function readVarint(buf: Uint8Array, cur: Cursor): number {
  let pos = cur.pos;
  let u = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= buf.length) throw truncated(pos);
    const b = buf[pos++];
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    if (shift === 28)
      throw new LogError(
        'SLUICE_LOG_CORRUPT',
        `varint at byte ${cur.pos} is longer than 5 bytes; the batch is corrupt`,
      );
  }
  cur.pos = pos;
  return (u >>> 1) ^ -(u & 1);
}

/** Bytes taken by `value` (within ±2^52) as a zigzag varlong. */
export function sizeOfVarlong(value: number): number {
  if ((value | 0) === value) return sizeOfVarint(value); // int32 zigzag == int64 zigzag here
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 0x80);
    n++;
  }
  return n;
}

/** Writes `value` (within ±2^52) as a zigzag varlong at `pos`; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if ((value | 0) === value) return writeVarint(buf, pos, value);
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 0x80) | 0x80;
    u = Math.floor(u / 0x80);
  }
  buf[pos++] = u;
  return pos;
}

/** Reads a zigzag varlong at `cur.pos`; exact within ±2^52 (zigzag doubles the magnitude), ample for timestamp deltas. */
export function readVarlong(buf: Uint8Array, cur: Cursor): number {
  let pos = cur.pos;
  if (pos >= buf.length) throw truncated(pos);
  let b = buf[pos++];
  if (b < 0x80) {
    cur.pos = pos;
    return (b >>> 1) ^ -(b & 1);
  }
  let u = b & 0x7f;
  let mul = 0x80;
  for (let i = 1; ; i++) {
    if (pos >= buf.length) throw truncated(pos);
    if (i === 10)
      throw new LogError(
        'SLUICE_LOG_CORRUPT',
        `varlong at byte ${cur.pos} is longer than 10 bytes; the batch is corrupt`,
      );
    b = buf[pos++];
    u += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 0x80;
  }
  cur.pos = pos;
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** Writes a signed 64-bit big-endian integer from a JS number (safe integers only) without BigInt. */
export function writeInt64BE(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

/** Reads a signed 64-bit big-endian integer as a JS number (exact within ±2^53). */
export function readInt64BE(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}
