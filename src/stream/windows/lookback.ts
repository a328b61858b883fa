import type { Envelope, RecordKey } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Stateful } from '../interfaces.js';
import { KeyedStateCache } from '../state/keyed-cache.js';
import type { StateChange, StateReader } from '../state/store.js';
import { durationLabel } from '../time/durations.js';
import type { Aggregate } from './aggregates.js';
import { KeyTimeline } from './key-timeline.js';

/** The aggregates a lookback computes: count, sum and mean (from prefix sums). */
export type LookbackAggregate<T> = Aggregate<T, unknown, unknown>;

/** A per-record lookback: for each record at time t, aggregates over (t − delay − w, t − delay]. */
export interface LookbackSpec<T> {
  /** The key whose records are aggregated (e.g. the card or the terminal). */
  key: (value: T) => RecordKey;
  /** Window sizes in ms; one feature per (aggregate, size). */
  windows: readonly number[];
  /** Shift the windows back in time, e.g. for labels that arrive late. Default 0. */
  delay?: number;
  aggregate: Record<string, LookbackAggregate<T>>;
  /**
   * How late (ms of event time) a record may arrive behind the newest one of its key and still
   * see complete windows; entries are kept this much longer. Default 0.
   */
  outOfOrderness?: number;
  /** Feature name for (aggregate, window); default `${group}_${aggregate}_${1d|7d|...}`. */
  name?: (aggregate: string, windowMs: number) => string;
}

/** Declares a per-record sliding lookback window, for use in `.features({...})`. */
export function lookback<T>(spec: LookbackSpec<T>): LookbackSpec<T> {
  requireOption(spec.windows.length > 0, 'lookback: give at least one window size');
  for (const w of spec.windows)
    requireOption(w > 0 && Number.isFinite(w), `lookback: window size must be > 0 ms, got ${w}`);
  requireOption((spec.delay ?? 0) >= 0, `lookback: delay must be >= 0 ms, got ${spec.delay}`);
  requireOption(
    (spec.outOfOrderness ?? 0) >= 0,
    `lookback: outOfOrderness must be >= 0 ms, got ${spec.outOfOrderness}`,
  );
  requireOption(Object.keys(spec.aggregate).length > 0, 'lookback: give at least one aggregate');
  for (const [name, agg] of Object.entries(spec.aggregate)) {
    requireOption(
      agg.kind !== undefined,
      `lookback: aggregate "${name}" is not one of count(), sum(), mean(); use .window() for min, max, last, distinctCount and reducers`,
    );
  }
  return spec;
}

interface Group<T> {
  name: string;
  spec: LookbackSpec<T>;
  delay: number;
  retention: number;
  /** One channel per sum/mean aggregate: its field. */
  fields: ((value: T) => number)[];
  /** Per aggregate: kind, channel index, empty value. */
  aggs: { kind: 'count' | 'sum' | 'mean'; channel: number; empty: number }[];
  timelines: KeyedStateCache<KeyTimeline>;
  values: Float64Array;
}

/**
 * Computes lookback features for each record, as event-time windows per key, and attaches them
 * to the value as `features` (a Float64Array in `names` order). The current record counts in
 * windows that contain its own time (delay 0), as "the last 7 days, this transaction included".
 */
export class LookbackFeatures<T> implements Stateful {
  readonly names: string[] = [];
  private readonly groups: Group<T>[] = [];
  private seen = 0;
  private maxTime = -Infinity;
  /**
   * Rows are views into a shared slab: a Float64Array of 12+ numbers on its own is an off-heap
   * allocation (~0.3 µs, plus GC work), the largest cost per record in the profile.
   */
  private slab = new Float64Array(0);
  private slabAt = 0;

  constructor(specs: Record<string, LookbackSpec<T>>, opts: { maxCachedKeys?: number } = {}) {
    requireOption(Object.keys(specs).length > 0, 'features: give at least one feature group');
    for (const [groupName, spec] of Object.entries(specs)) {
      const delay = spec.delay ?? 0;
      const fields: ((value: T) => number)[] = [];
      const aggs: Group<T>['aggs'] = [];
      for (const [aggName, agg] of Object.entries(spec.aggregate)) {
        let channel = -1;
        if (agg.kind !== 'count') {
          requireOption(
            typeof agg.field === 'function',
            `features.${groupName}.${aggName}: ${agg.kind} needs a field function`,
          );
          channel = fields.push(agg.field!) - 1;
        }
        aggs.push({ kind: agg.kind!, channel, empty: agg.empty });
      }
      for (const w of spec.windows) {
        for (const aggName of Object.keys(spec.aggregate)) {
          this.names.push(spec.name ? spec.name(aggName, w) : `${groupName}_${aggName}_${durationLabel(w)}`);
        }
      }
      this.groups.push({
        name: groupName,
        spec,
        delay,
        retention: Math.max(...spec.windows) + delay + (spec.outOfOrderness ?? 0),
        fields,
        aggs,
        timelines: new KeyedStateCache<KeyTimeline>({
          encode: (tl) => tl.toBinary(),
          decode: (data) => KeyTimeline.fromBinary(data as Uint8Array),
          maxCachedKeys: opts.maxCachedKeys,
        }),
        values: new Float64Array(fields.length),
      });
    }
  }

  /**
   * Computes the features of one record and updates the state with it. The row is a view into
   * a buffer shared with other rows: copy it (`row.slice()`) before transferring its buffer.
   */
  apply(env: Envelope<T>): Float64Array {
    const width = this.names.length;
    if (this.slabAt + width > this.slab.length) {
      this.slab = new Float64Array(width * 1024);
      this.slabAt = 0;
    }
    const row = this.slab.subarray(this.slabAt, this.slabAt + width);
    this.slabAt += width;
    const t = env.eventTime;
    if (t > this.maxTime) this.maxTime = t;
    let col = 0;
    // Index loops, not for-of: in this per-record path the array iterators were not optimised
    // away (~55 bytes of garbage a record in a heap profile).
    const groups = this.groups;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!;
      const key = g.spec.key(env.value);
      const known = g.timelines.get(key);
      const tl = known ?? KeyTimeline.empty(g.fields.length);
      tl.expire(Math.max(tl.lastTime, t) - g.retention);
      if (tl.size === 0) tl.reset();
      for (let c = 0; c < g.fields.length; c++) g.values[c] = g.fields[c]!(env.value);
      tl.insert(t, g.values);
      // Changed in place: only marked as changed (a Map write less per record and group).
      if (known === undefined) g.timelines.set(key, tl);
      else g.timelines.changed(key);
      const hi = t - g.delay;
      const j = tl.upperBound(hi);
      const windows = g.spec.windows;
      const aggs = g.aggs;
      for (let wi = 0; wi < windows.length; wi++) {
        const i = tl.upperBound(hi - windows[wi]!);
        const n = j - i;
        for (let ai = 0; ai < aggs.length; ai++) {
          const a = aggs[ai]!;
          if (a.kind === 'count') row[col++] = n;
          else {
            const p = tl.prefix[a.channel]!;
            const s = p[j]! - p[i]!;
            row[col++] = a.kind === 'sum' ? s : n === 0 ? a.empty : s / n;
          }
        }
      }
    }
    // Keys that stopped receiving records would otherwise keep their entries forever.
    if ((++this.seen & 0xffff) === 0) this.sweep();
    return row;
  }

  /**
   * Drops keys whose entries have all expired, in memory and in the store alike, so the
   * state does not depend on which keys happened to be in memory (after a restart, say).
   */
  private sweep(): void {
    for (const g of this.groups) {
      for (const key of [...g.timelines.allKeys()]) {
        const tl = g.timelines.peek(key);
        if (tl && tl.lastTime <= this.maxTime - g.retention) g.timelines.delete(key);
      }
    }
  }

  /** Number of keys held per group (for metrics and tests). */
  keyCounts(): Record<string, number> {
    return Object.fromEntries(this.groups.map((g) => [g.name, g.timelines.size]));
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    for (const g of this.groups) g.timelines.attach(state, `${ns}/${g.name}`, track);
    const meta = this.groups[0]!.timelines.readMeta<{ seen: number; maxTime: number | null }>();
    this.seen = meta?.seen ?? 0;
    this.maxTime = meta?.maxTime ?? -Infinity;
  }

  drainChanges(barrierId: number): StateChange[] {
    const out: StateChange[] = [];
    for (const g of this.groups) g.timelines.drainChanges(barrierId, out);
    out.push(
      this.groups[0]!.timelines.metaChange({
        seen: this.seen,
        maxTime: Number.isFinite(this.maxTime) ? this.maxTime : null,
      }),
    );
    return out;
  }

  committed(barrierId: number): void {
    for (const g of this.groups) g.timelines.committed(barrierId);
  }
}
