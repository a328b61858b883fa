/**
 * The idempotency keys of the last `capacity` actions written, in insertion order: a topic sink
 * only needs the keys written since the last checkpoint to dedupe a replay, so older ones go.
 */
export class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      // A Set iterates in insertion order: the first key is the oldest.
      this.keys.delete(this.keys.values().next().value!);
    }
  }

  get size(): number {
    return this.keys.size;
  }
}

/** Header names of records a topic sink writes. */
export const ACTION_HEADERS = {
  key: 'sluice.idempotency-key',
  action: 'sluice.action',
} as const;

/** A small stable string hash (FNV-1a) to pick a partition from a key. */
export function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
