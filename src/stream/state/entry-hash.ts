// The state checksum's entry hash, version 2: two MurmurHash3 (x86, 32-bit) lanes over the key's
// canonical text and the value's raw bytes (a window timeline) or canonical text (anything
// else), 48 bits of the pair. Version 1 (state-checksum.ts) turned every byte array into base64
// text and took SHA-1 of it: ~10 µs a 1.3 KB timeline and 3 KB of garbage, for each key that
// changed at every checkpoint, which made a checkpoint of the fraud demo's 3,000 keys cost more
// CPU than a second of its records. This one reads the bytes in place (~1 µs, no allocation).
// What it is for is noticing changed bytes on disk, which any good 48-bit hash does.

import { canonicalText } from './state-checksum.js';

/** Stored beside a checksum whose hashes are `entryHash2`'s (none: version 1). */
export const HASH_VERSION = 2;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
// The two lanes' running states (module-level: no allocation per entry).
let a = 0;
let b = 0;

function mix(k: number): void {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  a ^= k;
  a = (a << 13) | (a >>> 19);
  a = (Math.imul(a, 5) + 0xe6546b64) | 0;
  b ^= k;
  b = (b << 13) | (b >>> 19);
  b = (Math.imul(b, 5) + 0x1b873593) | 0;
}

function fmix(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Feeds a string's UTF-16 code units, two a word. */
function feedText(s: string): void {
  let i = 0;
  for (; i + 1 < s.length; i += 2) mix(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (i < s.length) mix(s.charCodeAt(i));
  mix(s.length);
}

/** Feeds bytes little-endian, four a word (a Buffer from the store may sit at any offset). */
function feedBytes(v: ArrayBufferView): void {
  const u = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const n = u.length;
  let i = 0;
  for (; i + 3 < n; i += 4) mix(u[i]! | (u[i + 1]! << 8) | (u[i + 2]! << 16) | (u[i + 3]! << 24));
  let k = 0;
  for (let s = 0; i < n; i++, s += 8) k |= u[i]! << s;
  mix(k);
  mix(n);
}

/**
 * The version-2 48-bit hash of one stored entry, its key given as `canonicalText(key)`. A byte
 * array and a text of the same content hash apart (a tag word says which it was).
 */
export function entryHash2(keyText: string, value: unknown): number {
  a = 0x9747b28c;
  b = 0x5bd1e995;
  feedText(keyText);
  if (ArrayBuffer.isView(value)) {
    mix(1);
    feedBytes(value);
  } else {
    mix(2);
    feedText(canonicalText(value) ?? 'undefined');
  }
  const hi = fmix(a, 0);
  const lo = fmix(b, 1);
  return hi * 65536 + (lo >>> 16);
}
