import type { RecordKey } from '../envelope.js';
import type { StateChange, StateReader } from './store.js';

/** The reserved key under which an operator keeps its own (non-keyed) bookkeeping. */
export const META_KEY = '\u0000meta';

export interface KeyedStateCacheOptions<V> {
  /** Turns a value into what the store keeps (a copy: the live value keeps changing). */
  encode: (value: V) => unknown;
  decode: (stored: unknown) => V;
  /** Keys kept in memory; beyond it, keys already durable leave memory after a checkpoint. */
  maxCachedKeys?: number;
}

/**
 * Per-key operator state: hot keys in a Map, the rest in the checkpoint store (read back on
 * first use). It tracks which keys changed since the last barrier, so a checkpoint writes only
 * those, and evicts only keys whose latest value is already committed.
 *
 * @example
 * const cache = new KeyedStateCache<number[]>({ encode: (v) => [...v], decode: (s) => s as number[] });
 * cache.attach(store.reader('p'), 'my-op', true);
 * const v = cache.get('k') ?? []; v.push(1); cache.set('k', v);
 */
export class KeyedStateCache<V> {
  private readonly live = new Map<RecordKey, V>();
  private readonly dirty = new Set<RecordKey>();
  private readonly deleted = new Set<RecordKey>();
  /** Keys captured by a barrier not yet committed (key -> barrier id): not evictable yet. */
  private readonly captured = new Map<RecordKey, number>();
  private readonly pendingDeletes = new Map<RecordKey, number>();
  private reader: StateReader | undefined;
  private ns = '';
  private track = false;
  private readonly maxCachedKeys: number;

  constructor(private readonly opts: KeyedStateCacheOptions<V>) {
    this.maxCachedKeys = opts.maxCachedKeys ?? 1_000_000;
  }

  attach(reader: StateReader, ns: string, track: boolean): void {
    this.reader = reader;
    this.ns = ns;
    this.track = track;
    this.live.clear();
  }

  get size(): number {
    return this.live.size;
  }

  get(key: RecordKey): V | undefined {
    const v = this.live.get(key);
    if (v !== undefined) return v;
    if (!this.reader || this.deletedSince(key)) return undefined;
    const stored = this.reader.get(this.ns, key);
    if (stored === undefined) return undefined;
    const decoded = this.opts.decode(stored);
    this.live.set(key, decoded);
    return decoded;
  }

  /** The value of a key without bringing it into memory (for scans such as expiry sweeps). */
  peek(key: RecordKey): V | undefined {
    const v = this.live.get(key);
    if (v !== undefined) return v;
    if (!this.reader || this.deletedSince(key)) return undefined;
    const stored = this.reader.get(this.ns, key);
    return stored === undefined ? undefined : this.opts.decode(stored);
  }

  /**
   * Whether the key was deleted after the state the reader shows (its stored value is stale).
   * Both sets are empty when nothing is tracked: a miss then costs no lookups in them (window
   * operators miss once per key and window, as each key's windows close and reopen).
   */
  private deletedSince(key: RecordKey): boolean {
    return (
      (this.deleted.size > 0 && this.deleted.has(key)) ||
      (this.pendingDeletes.size > 0 && this.pendingDeletes.has(key))
    );
  }

  /** Stores `value` (or records that the value returned by get() was changed in place). */
  set(key: RecordKey, value: V): void {
    this.live.set(key, value);
    if (this.track) {
      this.dirty.add(key);
      this.deleted.delete(key);
    }
  }

  /**
   * Records that the value of `key`, got from get() and still in memory, was changed in place:
   * set() without writing the Map again (the per-record path of lookback features).
   */
  changed(key: RecordKey): void {
    if (!this.track) return;
    this.dirty.add(key);
    if (this.deleted.size > 0) this.deleted.delete(key);
  }

  delete(key: RecordKey): void {
    this.live.delete(key);
    if (this.track) {
      this.dirty.delete(key);
      this.deleted.add(key);
    }
  }

  /** Keys and values in memory (keys only in the store are not visited). */
  entries(): IterableIterator<[RecordKey, V]> {
    return this.live.entries();
  }

  /** Every key, in memory or only in the store. */
  *allKeys(): Generator<RecordKey> {
    yield* this.live.keys();
    if (!this.reader) return;
    for (const k of this.reader.keys(this.ns)) {
      if (k !== META_KEY && !this.live.has(k) && !this.deleted.has(k) && !this.pendingDeletes.has(k)) yield k;
    }
  }

  drainChanges(barrierId: number, extra: StateChange[] = []): StateChange[] {
    const out = extra;
    for (const key of this.dirty) {
      out.push({ ns: this.ns, key, value: this.opts.encode(this.live.get(key)!) });
      this.captured.set(key, barrierId);
    }
    for (const key of this.deleted) {
      out.push({ ns: this.ns, key, value: undefined });
      this.pendingDeletes.set(key, barrierId);
    }
    this.dirty.clear();
    this.deleted.clear();
    return out;
  }

  committed(barrierId: number): void {
    for (const [k, id] of this.pendingDeletes) if (id <= barrierId) this.pendingDeletes.delete(k);
    for (const [k, id] of this.captured) if (id <= barrierId) this.captured.delete(k);
    if (!this.track || this.live.size <= this.maxCachedKeys) return;
    // Evict the oldest-inserted keys whose latest value is durable (not dirty, not in flight).
    const target = Math.floor(this.maxCachedKeys * 0.9);
    for (const k of this.live.keys()) {
      if (this.live.size <= target) break;
      if (!this.dirty.has(k) && !this.captured.has(k)) this.live.delete(k);
    }
  }

  /** The operator's own bookkeeping, stored beside its keys. */
  readMeta<M>(): M | undefined {
    return this.reader?.get(this.ns, META_KEY) as M | undefined;
  }

  metaChange(meta: unknown): StateChange {
    return { ns: this.ns, key: META_KEY, value: meta };
  }
}
