import type { Envelope, RecordKey } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Stateful } from '../interfaces.js';
import type { Batch } from '../steps.js';
import { eachRecord } from '../steps.js';
import { KeyedStateCache } from './keyed-cache.js';
import type { StateChange, StateReader } from './store.js';

/** Declares one piece of per-key state. */
export type StateSpec = { kind: 'value' } | { kind: 'list'; maxLength: number } | { kind: 'map' };

/** A single value per key. */
export const valueState = <V>(): StateSpec & { __v?: V } => ({ kind: 'value' });
/** A list per key; the oldest items go beyond `maxLength` (default unbounded). */
export const listState = <V>(opts: { maxLength?: number } = {}): StateSpec & { __l?: V } => ({
  kind: 'list',
  maxLength: opts.maxLength ?? Infinity,
});
/** A map per key. */
export const mapState = <K extends string | number, V>(): StateSpec & { __m?: [K, V] } => ({ kind: 'map' });

export interface ValueState<V> {
  get(): V | undefined;
  set(value: V): void;
  clear(): void;
}
export interface ListState<V> {
  get(): readonly V[];
  add(value: V): void;
  clear(): void;
}
export interface MapState<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  entries(): [K, V][];
  readonly size: number;
  clear(): void;
}

/** The state handles a keyed function sees, bound to the current record's key. */
export type StateHandles<S> = {
  [N in keyof S]: S[N] extends { __v?: infer V }
    ? ValueState<V>
    : S[N] extends { __l?: infer V }
      ? ListState<V>
      : S[N] extends { __m?: [infer K, infer V] }
        ? MapState<K, V>
        : never;
};

/** Stored per key: [last write (event time), value per state name]. Maps are stored as entry lists. */
type KeyRecord = [number, Record<string, unknown>];

export interface KeyedProcessOptions {
  /** State of a key not written for this long (event time) is cleared before its next record. */
  ttl?: number;
  maxCachedKeys?: number;
}

/**
 * Runs a function per record with per-key state (value, list and map), kept in the state store
 * and checkpointed with the source offsets. The function returns the record's next value, or
 * `undefined` to drop it. Handles are bound to the current key: never keep them across calls.
 */
export class KeyedProcessOperator<T, U, S extends Record<string, StateSpec>> implements Stateful {
  private readonly cache: KeyedStateCache<KeyRecord>;
  private cur: KeyRecord = [0, {}];
  private dirty = false;
  private now = 0;
  private readonly handles: Record<string, unknown> = {};

  constructor(
    readonly name: string,
    specs: S,
    private readonly fn: (value: T, state: StateHandles<S>, env: Envelope<T>) => U | undefined,
    private readonly opts: KeyedProcessOptions = {},
  ) {
    requireOption(opts.ttl === undefined || opts.ttl > 0, `${name}: ttl must be > 0 ms`);
    this.cache = new KeyedStateCache<KeyRecord>({
      encode: (r) => structuredClone(r),
      decode: (s) => s as KeyRecord,
      maxCachedKeys: opts.maxCachedKeys,
    });
    for (const [n, spec] of Object.entries(specs)) this.handles[n] = this.handle(n, spec);
  }

  private write(): void {
    this.dirty = true;
    this.cur[0] = this.now;
  }

  private handle(n: string, spec: StateSpec): unknown {
    const slot = () => this.cur[1];
    if (spec.kind === 'value') {
      return {
        get: () => slot()[n],
        set: (v: unknown) => ((slot()[n] = v), this.write()),
        clear: () => (delete slot()[n], this.write()),
      };
    }
    if (spec.kind === 'list') {
      const list = () => (slot()[n] ??= []) as unknown[];
      return {
        get: () => (slot()[n] as unknown[] | undefined) ?? [],
        add: (v: unknown) => {
          const l = list();
          l.push(v);
          if (l.length > spec.maxLength) l.splice(0, l.length - spec.maxLength);
          this.write();
        },
        clear: () => (delete slot()[n], this.write()),
      };
    }
    const entries = () => (slot()[n] ??= []) as [unknown, unknown][];
    const find = (k: unknown) => entries().findIndex((e) => e[0] === k);
    return {
      get: (k: unknown) => entries().find((e) => e[0] === k)?.[1],
      set: (k: unknown, v: unknown) => {
        const i = find(k);
        if (i >= 0) entries()[i]![1] = v;
        else entries().push([k, v]);
        this.write();
      },
      delete: (k: unknown) => {
        const i = find(k);
        if (i >= 0) entries().splice(i, 1);
        this.write();
      },
      entries: () => entries().map((e) => [e[0], e[1]]),
      get size() {
        return entries().length;
      },
      clear: () => (delete slot()[n], this.write()),
    };
  }

  process(batch: Batch): void {
    eachRecord(batch, this.name, (env) => {
      const key = env.key;
      if (key === undefined)
        throw new Error(`${this.name}: records have no key; call .keyBy() before keyed state`);
      this.now = env.eventTime;
      const stored = this.cache.get(key as RecordKey);
      const expired = stored && this.opts.ttl !== undefined && stored[0] + this.opts.ttl <= env.eventTime;
      this.cur = stored && !expired ? stored : [env.eventTime, {}];
      this.dirty = !!expired;
      const out = this.fn(env.value as T, this.handles as StateHandles<S>, env as Envelope<T>);
      if (this.dirty) {
        if (Object.keys(this.cur[1]).length === 0) this.cache.delete(key as RecordKey);
        else this.cache.set(key as RecordKey, this.cur);
      }
      if (out === undefined) return false;
      env.value = out;
      return true;
    });
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    this.cache.attach(state, ns, track);
  }

  drainChanges(barrierId: number): StateChange[] {
    return this.cache.drainChanges(barrierId);
  }

  committed(barrierId: number): void {
    this.cache.committed(barrierId);
  }
}
