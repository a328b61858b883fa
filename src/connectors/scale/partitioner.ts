import type { RecordKey } from '../../stream/index.js';

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, seed 0x9747b28c), so that Sluice puts a
 * key on the same partition as Kafka's default partitioner and librdkafka's `murmur2_random`:
 * records produced by other clients keyed the same way land where Sluice expects them.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const blocks = length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const j = i * 4;
    let k = data[j]! | (data[j + 1]! << 8) | (data[j + 2]! << 16) | (data[j + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = blocks * 4;
  const rest = length & 3;
  if (rest >= 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The bytes a record key is written as (and hashed from): its UTF-8 string form. */
export function keyBytes(key: RecordKey): Buffer {
  return Buffer.from(String(key), 'utf8');
}

/** The partition of `key` among `partitions`, as Kafka's default partitioner computes it. */
export function partitionFor(key: RecordKey, partitions: number): number {
  return (murmur2(keyBytes(key)) & 0x7fffffff) % partitions;
}
