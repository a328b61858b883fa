import { wallClockMs } from '../../observe/index.js';
import type { DeadLetter, Envelope, RecordKey } from '../envelope.js';
import { envelope } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Stateful } from '../interfaces.js';
import { KeyedStateCache } from '../state/keyed-cache.js';
import type { StateChange, StateReader } from '../state/store.js';
import type { Batch } from '../steps.js';
import { WatermarkTracker } from '../time/watermarks.js';
import type { Aggregate } from './aggregates.js';
import { windowsOf, type WindowAssigner } from './assigners.js';
import { TimerHeap } from './min-heap.js';

export interface WindowOptions {
  /** How late (event time) a record may arrive behind the newest one and still count. Default 0. */
  outOfOrderness?: number;
  /** Extra time a window stays open after the watermark passes its end. Default 0. */
  allowedLateness?: number;
  /** A source partition silent this long stops holding the watermark back. Default 10 s. */
  idleTimeoutMs?: number;
  /** Keys kept in memory; colder ones live only in the state store. */
  maxCachedKeys?: number;
}

export type EmitMode = 'close' | 'update';

/** One window's result: its key and bounds, and one field per aggregate. */
export type WindowResult<R> = { key: RecordKey; start: number; end: number } & R;

/** [start, end, accumulators, updates emitted] */
type Win = [number, number, unknown[], number];
const NONE: Win[] = [];

/**
 * Tumbling, hopping and session windows over keyed records, closed by event-time watermarks.
 * With emit 'close' each window yields one result when the watermark passes its end (plus the
 * allowed lateness, or when a bounded input ends); with 'update' every record yields the
 * window's running result. Records
 * whose windows have all closed go to the late output with the reason, never dropped silently.
 */
export class WindowOperator<T> implements Stateful {
  private readonly aggs: [string, Aggregate<T>][];
  private readonly cache: KeyedStateCache<Win[]>;
  private readonly timers = new TimerHeap<RecordKey>();
  private readonly wm: WatermarkTracker;
  private readonly lateness: number;
  private ns = '';
  /** Reused one-window list for the tumbling fast path (read before the next record). */
  private readonly touched: Win[] = [];

  constructor(
    readonly name: string,
    private readonly assigner: WindowAssigner,
    aggregates: Record<string, Aggregate<T>>,
    private readonly emit: EmitMode,
    opts: WindowOptions = {},
  ) {
    this.aggs = Object.entries(aggregates);
    requireOption(this.aggs.length > 0, `${name}: give at least one aggregate`);
    requireOption(
      emit === 'close' || emit === 'update',
      `${name}: emit must be 'close' or 'update', got "${emit}"`,
    );
    this.lateness = opts.allowedLateness ?? 0;
    requireOption(this.lateness >= 0, `${name}: allowedLateness must be >= 0 ms`);
    this.wm = new WatermarkTracker({
      outOfOrderness: opts.outOfOrderness ?? 0,
      idleTimeoutMs: opts.idleTimeoutMs,
    });
    // Accumulators may be mutated in place (HyperLogLog registers): checkpoints store copies.
    this.cache = new KeyedStateCache<Win[]>({
      encode: (w) => structuredClone(w),
      decode: (s) => s as Win[],
      maxCachedKeys: opts.maxCachedKeys,
    });
  }

  /** The current event-time watermark. */
  get watermark(): number {
    return this.wm.current;
  }

  process(batch: Batch): void {
    const at = performance.now();
    this.wm.refresh(at);
    const out: Envelope[] = [];
    let appendTime = 0;
    for (const env of batch.records as Envelope<T>[]) {
      const t = env.eventTime;
      if (env.appendTime > appendTime) appendTime = env.appendTime;
      this.wm.observeRecord(env.topic, env.partition, t, at);
      const closedUpTo = this.wm.current - this.lateness;
      const key = env.key ?? '';
      const wins = this.cache.get(key) ?? [];
      const touched =
        this.assigner.kind === 'session'
          ? this.addToSession(wins, key, env, closedUpTo)
          : this.addToWindows(wins, key, env, closedUpTo);
      if (touched.length === 0) {
        (batch.late ??= []).push(lateRecord(env, this.name, t, this.wm.current));
        continue;
      }
      this.cache.set(key, wins);
      if (this.emit === 'update') {
        for (const w of touched) out.push(this.result(key, w, ++w[3], env.appendTime));
      }
    }
    // A bounded input that ended will bring no more records: every window is complete.
    this.fire(batch.endOfInput ? Infinity : this.wm.current - this.lateness, out, appendTime);
    batch.records = out;
  }

  private addToWindows(wins: Win[], key: RecordKey, env: Envelope<T>, closedUpTo: number): Win[] {
    const a = this.assigner;
    if (a.kind === 'tumbling') {
      // The common case, without allocating the window list.
      const start = Math.floor(env.eventTime / a.size) * a.size;
      if (start + a.size <= closedUpTo) return NONE;
      const w = this.windowAt(wins, key, start, start + a.size);
      this.addTo(w, env);
      this.touched[0] = w;
      return this.touched;
    }
    const touched: Win[] = [];
    for (const [start, end] of windowsOf(a, env.eventTime)) {
      if (end <= closedUpTo) continue;
      const w = this.windowAt(wins, key, start, end);
      this.addTo(w, env);
      touched.push(w);
    }
    return touched;
  }

  /** The key's window starting at `start`, created (with its timer) if new. */
  private windowAt(wins: Win[], key: RecordKey, start: number, end: number): Win {
    for (let i = 0; i < wins.length; i++) if (wins[i]![0] === start) return wins[i]!;
    const w: Win = [start, end, this.aggs.map(([, agg]) => agg.init()), 0];
    wins.push(w);
    this.timers.push(end, key);
    return w;
  }

  private addToSession(wins: Win[], key: RecordKey, env: Envelope<T>, closedUpTo: number): Win[] {
    const gap = (this.assigner as { gap: number }).gap;
    const t = env.eventTime;
    if (t + gap <= closedUpTo) return [];
    let merged: Win = [t, t + gap, this.aggs.map(([, a]) => a.init()), 0];
    // Merge every open session this record touches: [start, end) overlaps [t, t + gap).
    for (let i = wins.length - 1; i >= 0; i--) {
      const w = wins[i]!;
      if (w[1] <= closedUpTo || !(t < w[1] && t + gap > w[0])) continue;
      merged = [
        Math.min(merged[0], w[0]),
        Math.max(merged[1], w[1]),
        merged[2].map((acc, k) => this.aggs[k]![1].merge(acc, w[2][k])),
        Math.max(merged[3], w[3]),
      ];
      wins.splice(i, 1);
    }
    this.addTo(merged, env);
    wins.push(merged);
    wins.sort((a, b) => a[0] - b[0]);
    this.timers.push(merged[1], key);
    return [merged];
  }

  private addTo(w: Win, env: Envelope<T>): void {
    const accs = w[2];
    for (let k = 0; k < this.aggs.length; k++)
      accs[k] = this.aggs[k]![1].add(accs[k], env.value, env.eventTime);
  }

  /** Emits (in close mode) and drops every window that ends at or before `closedUpTo`. */
  private fire(closedUpTo: number, out: Envelope[], appendTime: number): void {
    if (!(this.timers.size > 0 && this.timers.peekEnd() <= closedUpTo)) return;
    const stamps = [wallClockMs()]; // one stamps array for every result of this batch
    while (this.timers.size > 0 && this.timers.peekEnd() <= closedUpTo) {
      const [, keys] = this.timers.pop()!;
      for (const key of keys) {
        const wins = this.cache.get(key);
        if (!wins) continue; // already fired (a key may be listed twice)
        let open = 0;
        for (let i = 0; i < wins.length; i++) {
          const w = wins[i]!;
          if (w[1] > closedUpTo) wins[open++] = w;
          else if (this.emit === 'close') out.push(this.result(key, w, 0, appendTime, stamps));
        }
        if (open === wins.length) continue; // a stale timer (session grew)
        wins.length = open;
        if (open === 0) this.cache.delete(key);
        else this.cache.set(key, wins);
      }
    }
  }

  private result(
    key: RecordKey,
    w: Win,
    update: number,
    appendTime: number,
    stamps: number[] = [wallClockMs()],
  ): Envelope {
    const value: Record<string, unknown> = { key, start: w[0], end: w[1] };
    for (let k = 0; k < this.aggs.length; k++) value[this.aggs[k]![0]] = this.aggs[k]![1].result(w[2][k]);
    const env = envelope<unknown>(value, this.ns, 0, 0, appendTime || stamps[0]!, stamps);
    env.key = key;
    env.eventTime = w[1] - 1;
    env.id = update > 0 ? `${this.ns}:${key}:${w[0]}#${update}` : `${this.ns}:${key}:${w[0]}`;
    return env;
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    this.ns = ns;
    this.cache.attach(state, ns, track);
    this.wm.restore(this.cache.readMeta());
    // Timers are not stored: rebuild them from the windows in the store (once, at start).
    this.timers.clear();
    for (const key of this.cache.allKeys())
      for (const w of this.cache.get(key) ?? []) this.timers.push(w[1], key);
  }

  inputs(partitions: string[]): void {
    for (const p of partitions) this.wm.register(p);
  }

  drainChanges(barrierId: number): StateChange[] {
    return this.cache.drainChanges(barrierId, [this.cache.metaChange(this.wm.toJSON())]);
  }

  committed(barrierId: number): void {
    this.cache.committed(barrierId);
  }
}

const iso = (t: number) => (Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : String(t));

function lateRecord(env: Envelope, stage: string, t: number, watermark: number): DeadLetter {
  return {
    stage,
    reason: `late: event time ${iso(t)} is behind the watermark ${iso(watermark)} and its windows have closed`,
    original: env.value,
    topic: env.topic,
    partition: env.partition,
    offset: env.offset,
    time: Date.now(),
  };
}
