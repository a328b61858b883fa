import { wallClockMs } from '../../observe/index.js';
import { derivedId, envelope, recordId, type Envelope, type RecordKey } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Stateful } from '../interfaces.js';
import type { Batch } from '../steps.js';
import { deadLetter } from '../steps.js';
import { KeyedStateCache } from './keyed-cache.js';
import { KeyedTimers, TIMERS_SLOT } from './keyed-timers.js';
import type { EmitContext, KeyedProcessor, KeyedStateView } from './processor.js';

export type { KeyedProcessor, KeyedStateView, ProcessContext } from './processor.js';
import { stateHandle } from './state-handles.js';
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

/** The per-record function the operator runs; `withState` adapts its function to it. */
type OnRecord<T, U, S> = (value: T, ctx: EmitContext<U, S>, env: Envelope<T>) => void;
/** The timer function the operator runs (outputs through `ctx.emit`). */
type OnTimer<U, S> = (time: number, ctx: EmitContext<U, S>) => void;
/** `.withState()`'s function: one output or none, in place of the record (its own fast loop). */
type MapRecord<T, U, S> = { map: (value: T, state: StateHandles<S>, env: Envelope<T>) => U | undefined };

/**
 * Runs a function per record with per-key state (value, list and map), kept in the state store
 * and checkpointed with the source offsets. The function emits zero or more values per record
 * (`.withState()`: its return value, unless undefined). Handles are bound to the current key:
 * never keep them across calls.
 */
export class KeyedProcessOperator<T, U, S extends Record<string, StateSpec>> implements Stateful {
  private readonly cache: KeyedStateCache<KeyRecord>;
  private cur: KeyRecord = [0, {}];
  private curKey: RecordKey = '';
  /** Whether the bound key's state is being written for one of its records (not a hook). */
  private byRecord = true;
  private dirty = false;
  private now = 0;
  private track = false;
  private readonly handles: Record<string, unknown> = {};
  /** Outputs of the current record; the first reuses its envelope. */
  private readonly emitted: U[] = [];
  private readonly ctx: EmitContext<U, S>;
  private readonly view: KeyedStateView<S>;
  private readonly onRecord: OnRecord<T, U, S> | MapRecord<T, U, S>;
  /** Event-time timers, when the processor has `onTimer`. */
  private readonly timers: KeyedTimers | undefined;
  private ns = '';

  constructor(
    readonly name: string,
    specs: S,
    onRecord: OnRecord<T, U, S> | MapRecord<T, U, S>,
    private readonly opts: KeyedProcessOptions = {},
    private readonly hooks: Pick<KeyedProcessor<T, U, S>, 'onStart' | 'beforeCheckpoint'> & {
      onTimer?: OnTimer<U, S>;
      outOfOrderness?: number;
      idleTimeoutMs?: number;
    } = {},
  ) {
    requireOption(opts.ttl === undefined || opts.ttl > 0, `${name}: ttl must be > 0 ms`);
    this.onRecord = onRecord;
    this.cache = new KeyedStateCache<KeyRecord>({
      encode: (r) => structuredClone(r),
      decode: (s) => s as KeyRecord,
      maxCachedKeys: opts.maxCachedKeys,
    });
    const slot = () => this.cur[1];
    const write = () => this.write();
    for (const [n, spec] of Object.entries(specs)) this.handles[n] = stateHandle(n, spec, slot, write);
    const emitted = this.emitted;
    if (hooks.onTimer !== undefined) this.timers = new KeyedTimers(hooks);
    this.ctx = {
      key: '',
      eventTime: 0,
      watermark: -Infinity,
      state: this.handles as StateHandles<S>,
      emit: (v) => emitted.push(v),
      setTimer: (time) => this.setTimer(time),
    };
    this.view = {
      keys: () => Array.from(this.cache.allKeys()),
      of: (key) => {
        this.flush();
        this.bind(key, this.now, false);
        return this.handles as StateHandles<S>;
      },
    };
  }

  /** Loads `key`'s state into the handles (fresh when expired at event time `now`). */
  private bind(key: RecordKey, now: number, byRecord = true): void {
    this.curKey = key;
    this.byRecord = byRecord;
    this.now = now;
    const stored = this.cache.get(key);
    const expired = stored !== undefined && this.opts.ttl !== undefined && stored[0] + this.opts.ttl <= now;
    this.cur = stored && !expired ? stored : [this.stamp(now), {}];
    this.dirty = !!expired;
  }

  /** Stores the bound key's state if it changed (an emptied one is deleted). */
  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (Object.keys(this.cur[1]).length === 0) this.cache.delete(this.curKey);
    else this.cache.set(this.curKey, this.cur);
  }

  /**
   * The time a write is stored with: only `ttl` reads it, so without one it is 0, and writes
   * from the hooks (not a record of the key) keep the key's: either way the stored state does
   * not depend on where checkpoint barriers fell, which crash tests compare byte for byte.
   */
  private stamp(now: number): number {
    return this.opts.ttl === undefined ? 0 : now;
  }

  private setTimer(time: number): void {
    if (this.timers === undefined)
      throw new Error(`${this.name}: setTimer needs an onTimer in the processor`);
    if (!Number.isFinite(time))
      throw new Error(`${this.name}: a timer's time must be a finite number of ms, got ${time}`);
    const times = (this.cur[1][TIMERS_SLOT] ??= []) as number[];
    if (this.timers.add(times, time, this.curKey)) this.write();
  }

  private write(): void {
    this.dirty = true;
    if (this.byRecord) this.cur[0] = this.stamp(this.now);
  }

  process(batch: Batch): void {
    if (typeof this.onRecord !== 'function') return this.processMapped(batch, this.onRecord.map);
    const onRecord = this.onRecord;
    const records = batch.records as Envelope<T>[];
    const out: Envelope[] = [];
    const emitted = this.emitted;
    const ctx = this.ctx;
    const timers = this.timers;
    let appendTime = 0;
    if (timers !== undefined) {
      // An idle partition may have stopped holding the watermark back.
      timers.wm.refresh();
      this.fire(batch, timers, out, appendTime, timers.wm.current);
    }
    for (const env of records) {
      const key = env.key;
      const original = env.value;
      if (timers !== undefined) {
        if (env.appendTime > appendTime) appendTime = env.appendTime;
        // Timers the record's watermark passes fire before it: they see the state of the
        // records before theirs in event time, whatever the batches (restarts cut them anew).
        timers.observe(env);
        this.fire(batch, timers, out, appendTime, timers.wm.current);
        ctx.watermark = timers.wm.current;
      }
      emitted.length = 0;
      try {
        // Built pipelines key the stream first (checked when built); kept for hand-made steps.
        if (key === undefined)
          throw new Error(`${this.name}: records have no key; call .keyBy() before keyed state`);
        this.bind(key, env.eventTime);
        ctx.key = key;
        ctx.eventTime = env.eventTime;
        onRecord(original, ctx, env);
        this.flush();
      } catch (e) {
        this.dirty = false;
        deadLetter(batch, env, this.name, e, original);
        continue;
      }
      for (let i = 0; i < emitted.length; i++) {
        if (i === 0) {
          env.value = emitted[0] as unknown as T;
          out.push(env);
        } else {
          // A further output of one record: its own id, so each gets its own idempotency key.
          out.push({ ...env, value: emitted[i], id: derivedId(this.name, key!, `${recordId(env)}#${i}`) });
        }
      }
    }
    if (timers !== undefined && batch.endOfInput) this.fire(batch, timers, out, appendTime, Infinity);
    batch.records = out;
  }

  /**
   * Runs `onTimer` for every timer due at or before `upTo` (the watermark; Infinity when a
   * bounded input ended), in time order; its outputs are new records keyed and timed by the
   * timer, with ids `stage-key@timer:time` (docs/actions.md).
   */
  private fire(batch: Batch, timers: KeyedTimers, out: Envelope[], appendTime: number, upTo: number): void {
    if (!timers.due(upTo)) return;
    const onTimer = this.hooks.onTimer!;
    const ctx = this.ctx;
    const emitted = this.emitted;
    let now: number | undefined;
    for (let due = timers.next(upTo); due !== undefined; due = timers.next(upTo)) {
      const [time, keys] = due;
      for (const key of keys) {
        this.bind(key, time);
        const times = this.cur[1][TIMERS_SLOT] as number[] | undefined;
        const at = times?.indexOf(time) ?? -1;
        if (at < 0) {
          this.flush(); // cleared with the key's state (ttl)
          continue;
        }
        times!.splice(at, 1);
        if (times!.length === 0) delete this.cur[1][TIMERS_SLOT];
        this.write();
        emitted.length = 0;
        ctx.key = key;
        ctx.eventTime = time;
        ctx.watermark = timers.wm.current;
        try {
          onTimer(time, ctx);
        } catch (e) {
          // Accounted like a table's bad row: one more item in, one dead letter.
          batch.size += 1;
          batch.deadLetters.push({
            stage: this.name,
            reason: `timer at ${time} of key ${String(key)}: ${e instanceof Error ? e.message : String(e)}`,
            original: { key, time },
            topic: this.ns,
            partition: 0,
            offset: 0,
            time: Date.now(),
          });
          emitted.length = 0;
        }
        this.flush();
        now ??= wallClockMs();
        for (let i = 0; i < emitted.length; i++) {
          const o = envelope<unknown>(emitted[i], this.ns, 0, 0, appendTime || now, now);
          o.key = key;
          o.eventTime = time;
          o.id = derivedId(this.name, key, `timer:${time}${i > 0 ? `#${i}` : ''}`);
          out.push(o);
        }
      }
    }
  }

  /** `withState`: at most one output per record, so the batch is compacted in place. */
  private processMapped(batch: Batch, map: MapRecord<T, U, S>['map']): void {
    const recs = batch.records as Envelope<T>[];
    const handles = this.handles as StateHandles<S>;
    let kept = 0;
    for (let i = 0; i < recs.length; i++) {
      const env = recs[i]!;
      const key = env.key;
      const original = env.value;
      let out: U | undefined;
      try {
        if (key === undefined)
          throw new Error(`${this.name}: records have no key; call .keyBy() before keyed state`);
        this.bind(key, env.eventTime);
        out = map(original, handles, env);
        this.flush();
      } catch (e) {
        this.dirty = false;
        deadLetter(batch, env, this.name, e, original);
        continue;
      }
      if (out === undefined) continue;
      (env as Envelope<unknown>).value = out;
      recs[kept++] = env;
    }
    recs.length = kept;
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    this.track = track;
    this.ns = ns;
    this.cache.attach(state, ns, track);
    if (this.timers !== undefined) {
      this.timers.wm.restore(this.cache.readMeta());
      const cache = this.cache;
      this.timers.rebuild(
        (function* () {
          for (const key of cache.allKeys())
            yield [key, cache.peek(key)?.[1][TIMERS_SLOT] as number[] | undefined];
        })(),
      );
    }
    if (this.hooks.onStart) {
      this.hooks.onStart(this.view);
      this.flush();
    }
  }

  drainChanges(barrierId: number): StateChange[] {
    if (this.track && this.hooks.beforeCheckpoint) {
      this.hooks.beforeCheckpoint(this.view);
      this.flush();
    }
    const meta = this.timers === undefined ? [] : [this.cache.metaChange(this.timers.wm.toJSON())];
    return this.cache.drainChanges(barrierId, meta);
  }

  inputs(partitions: string[]): void {
    for (const p of partitions) this.timers?.wm.register(p);
  }

  committed(barrierId: number): void {
    this.cache.committed(barrierId);
  }
}
