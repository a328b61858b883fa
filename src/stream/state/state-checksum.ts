// An order-independent checksum over a pipeline's stored state entries: the count of entries and
// the sum, modulo 2^48, of a 48-bit hash of each (key, value). Adding, replacing or removing one
// entry updates it in O(1), so every checkpoint keeps it current for the cost of hashing the
// entries it changes; recomputing it over the store on open detects entries that changed on disk.
// `entryHash` here is version 1, which stores written before version 2 (entry-hash.ts) are
// checked with when they are opened.

import { hash } from 'node:crypto';

const MOD = 2 ** 48; // sums of two values below 2^48 stay exact in a double

/** Entry count and hash sum of a set of state entries. */
export interface StateChecksum {
  entries: number;
  sum: number;
}

// Byte arrays (window timelines are stored as raw float64 bytes) hash as base64, not as
// JSON's one number per byte; `this[k]` is the value before Buffer's toJSON turned it into an object.
function canonical(this: Record<string, unknown>, k: string, v: unknown): unknown {
  const raw = this[k];
  return ArrayBuffer.isView(raw) ? bytesText(raw) : v;
}

/**
 * The version-1 48-bit hash of one stored entry. SHA-1 through the one-shot `crypto.hash` (~2.5 us an
 * entry here, a fifth of a createHash chain): collisions are not a concern, changed bytes are.
 */
export function entryHash(key: unknown, value: unknown): number {
  const text = `${canonicalText(key)!}\n${canonicalText(value) ?? 'undefined'}`;
  return Number.parseInt(hash('sha1', text).slice(0, 12), 16);
}

/**
 * `JSON.stringify(v, canonical)`, the same text, without its detours for the common values: a
 * byte array (a window timeline) is one base64 string, and a state key (an array of strings and
 * numbers) has nothing to replace. Through the replacer, JSON.stringify first called Buffer's
 * toJSON, an array of one number per byte: ~10 KB of garbage per 1 KB timeline, twice per key
 * and checkpoint (the old and the new value), most of a checkpoint's cost.
 */
export function canonicalText(v: unknown): string | undefined {
  // Base64 has no character JSON escapes: the quoted text is the string as it is.
  if (ArrayBuffer.isView(v)) return `"\\u0000${bytesText(v).slice(1)}"`;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return JSON.stringify(v);
  return JSON.stringify(v, canonical);
}

function bytesText(raw: ArrayBufferView): string {
  return `\u0000bytes:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`;
}

/** `c` with the entry `(key, value)` added (`sign` 1) or removed (`sign` -1), in place. */
export function addEntry(c: StateChecksum, key: unknown, value: unknown, sign: 1 | -1): void {
  addHash(c, entryHash(key, value), sign);
}

/** `c` with an entry of hash `h` added (`sign` 1) or removed (`sign` -1), in place. */
export function addHash(c: StateChecksum, h: number, sign: 1 | -1): void {
  c.entries += sign;
  c.sum = (c.sum + sign * h + MOD) % MOD;
}

/** The checksum of `entries`, computed from scratch. */
export function checksumOf(entries: Iterable<{ key: unknown; value: unknown }>): StateChecksum {
  const c = { entries: 0, sum: 0 };
  for (const e of entries) addEntry(c, e.key, e.value, 1);
  return c;
}
