import { wallClockMs } from '../../observe/index.js';
import type { DeadLetter, Envelope, RecordKey } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Stateful } from '../interfaces.js';
import { KeyedStateCache } from '../state/keyed-cache.js';
import type { StateChange, StateReader } from '../state/store.js';
import { checkedEventTime, deadLetter, type Batch, type FusedInputs } from '../steps.js';
import { WatermarkTracker } from '../time/watermarks.js';
import type { Aggregate } from './aggregates.js';
import { windowsOf, type WindowAssigner } from './assigners.js';
import { TimerHeap } from './min-heap.js';
import { AggregateSet } from './aggregate-set.js';
import { ResultEnvelope, Win, WinPool, decodeWindows, encodeWindows } from './window-state.js';

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

/**
 * Tumbling, hopping and session windows over keyed records, closed by event-time watermarks.
 * With emit 'close' each window yields one result when the watermark passes its end (plus the
 * allowed lateness, or when a bounded input ends); with 'update' every record yields the
 * window's running result. Records
 * whose windows have all closed go to the late output with the reason, never dropped silently.
 */
export class WindowOperator<T> implements Stateful {
  private readonly aggs: AggregateSet<T>;
  private readonly cache: KeyedStateCache<Win>;
  private readonly pool = new WinPool();
  private readonly timers = new TimerHeap<RecordKey>();
  private readonly wm: WatermarkTracker;
  private readonly lateness: number;
  private ns = '';
  /** Whether state changes are checkpointed: only then must in-place changes be reported. */
  private track = false;
  /** The windows the current record went into (reused: no array per record). */
  private readonly touchedWins: Win[] = [];
  private touched = 0;
  /** The stamps array shared by this batch's results (they travel on together). */
  private stamps: number[] | undefined;
  /** The `eventTime`/`keyBy` stages fused into this one for the current run (`fuse.ts`). */
  private fused: FusedInputs | undefined;

  constructor(
    readonly name: string,
    private readonly assigner: WindowAssigner,
    aggregates: Record<string, Aggregate<T>>,
    private readonly emit: EmitMode,
    opts: WindowOptions = {},
  ) {
    this.aggs = new AggregateSet(aggregates);
    requireOption(this.aggs.size > 0, `${name}: give at least one aggregate`);
    if (assigner.kind === 'session') {
      // Sessions merge when a record bridges two: caught here, when the pipeline is built,
      // not when the first two sessions meet (the types say so too, for TypeScript callers).
      const unmergeable = Object.keys(aggregates).filter((k) => typeof aggregates[k]!.merge !== 'function');
      requireOption(
        unmergeable.length === 0,
        `${name}: session windows merge sessions, so every aggregate needs a merge; give reduce() its third argument (merge) for: ${unmergeable.join(', ')}`,
      );
    }
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
    this.cache = new KeyedStateCache<Win>({
      encode: encodeWindows,
      decode: decodeWindows,
      maxCachedKeys: opts.maxCachedKeys,
    });
  }

  /** The current event-time watermark. */
  get watermark(): number {
    return this.wm.current;
  }

  /** Runs the given `eventTime`/`keyBy` stages in this operator's loop (until called again). */
  fuseInputs(inputs: FusedInputs | undefined): void {
    this.fused = inputs;
  }

  process(batch: Batch): void {
    const at = performance.now();
    const wm = this.wm;
    wm.refresh(at);
    this.stamps = undefined;
    const out: Envelope[] = [];
    const records = batch.records as Envelope<T>[];
    const a = this.assigner;
    const update = this.emit === 'update';
    const lateness = this.lateness;
    let appendTime = 0;
    // The watermark moves only on a record newer than any before it in its partition: other
    // records of the same partition skip the tracker (a call per record, its numbers boxed).
    let topic: string | undefined;
    let partition = 0;
    let newest = 0;
    let closedUpTo = 0;
    // Fused `eventTime`/`keyBy` stages (fuse.ts): what they would do to each record, in their
    // order, written out here rather than in a method: a call this big per record would use up
    // the inlining budget that the aggregate kernels and the watermark tracker need.
    const { eventTime: fusedTime, key: fusedKey } = this.fused ?? {};
    const timeOf = fusedTime?.fn;
    const keyOf = fusedKey?.fn;
    const fused = timeOf !== undefined || keyOf !== undefined;
    for (let i = 0; i < records.length; i++) {
      const env = records[i]!;
      if (fused) {
        const value = env.value;
        let stage = fusedTime?.stage;
        try {
          if (timeOf !== undefined) env.eventTime = checkedEventTime(timeOf, value);
          stage = fusedKey?.stage;
          if (keyOf !== undefined) env.key = keyOf(value);
        } catch (e) {
          // As unfused: the record is a dead letter of the stage that rejected it.
          deadLetter(batch, env, stage!, e, value);
          continue;
        }
      }
      const t = env.eventTime;
      if (env.appendTime > appendTime) appendTime = env.appendTime;
      if (t > newest || env.topic !== topic || env.partition !== partition) {
        topic = env.topic;
        partition = env.partition;
        newest = wm.observeRecord(topic, partition, t, at);
        closedUpTo = wm.current - lateness;
      }
      const key = env.key ?? '';
      const before = this.cache.get(key);
      let head = before;
      this.touched = 0;
      if (a.kind === 'tumbling') {
        // The common case inline (no call taking numbers, which would box them): one window,
        // found in the key's list or opened, nothing allocated.
        const size = a.size;
        const start = Math.floor(t / size) * size;
        if (start + size > closedUpTo) {
          let w = head;
          while (w !== undefined && w.start !== start) w = w.next;
          if (w === undefined) head = this.open(head, key, start, env);
          else {
            this.aggs.add(w.accs, env);
            this.touchedWins[this.touched++] = w;
          }
        }
      } else if (a.kind === 'hopping') {
        for (const [start, end] of windowsOf(a, t))
          if (end > closedUpTo) head = this.addTo(head, key, start, env);
      } else head = this.addToSession(head, key, env, closedUpTo, a.gap);
      if (this.touched === 0) {
        (batch.late ??= []).push(lateRecord(env, this.name, t, wm.current));
        continue;
      }
      // A window changed in place needs no set, unless the change must reach a checkpoint.
      if (head !== before || this.track) this.cache.set(key, head!);
      if (update) {
        for (let k = 0; k < this.touched; k++) {
          const w = this.touchedWins[k]!;
          out.push(this.result(key, w, ++w.updates, env.appendTime));
        }
      }
    }
    // After this batch's records (they come before it): the source's own watermark, if any.
    if (batch.watermark !== undefined) wm.advanceTo(batch.watermark);
    // A bounded input that ended will bring no more records: every window is complete.
    this.fire(batch.endOfInput ? Infinity : wm.current - lateness, out, appendTime);
    batch.records = out;
    batch.sharedStamps = true; // every result of this call carries this.stamps
  }

  private touch(w: Win): void {
    this.touchedWins[this.touched++] = w;
  }

  /**
   * Adds the record to the key's window starting at `start`, opened if new; returns the list's
   * head. Kept small so that it inlines: a call would box its number arguments per record.
   */
  private addTo(head: Win | undefined, key: RecordKey, start: number, env: Envelope<T>): Win {
    let w = head;
    while (w !== undefined && w.start !== start) w = w.next;
    if (w === undefined) return this.open(head, key, start, env);
    this.aggs.add(w.accs, env);
    this.touch(w);
    return head!;
  }

  /** A new window [start, start + size) for the record, at the end of the key's list, with its timer. */
  private open(head: Win | undefined, key: RecordKey, start: number, env: Envelope<T>): Win {
    const end = start + (this.assigner as { size: number }).size;
    let w = this.pool.take();
    if (w === undefined) w = new Win(start, end, this.aggs.first(env), 0);
    else {
      w.start = start;
      w.end = end;
      w.updates = 0;
      this.aggs.refill(w.accs, env);
    }
    this.timers.push(end, key);
    this.touch(w);
    if (head === undefined) return w;
    let last = head;
    while (last.next !== undefined) last = last.next;
    last.next = w;
    return head;
  }

  /** Adds the record to its session, merging every open session it bridges; returns the new head. */
  private addToSession(
    head: Win | undefined,
    key: RecordKey,
    env: Envelope<T>,
    closedUpTo: number,
    gap: number,
  ): Win | undefined {
    const t = env.eventTime;
    if (t + gap <= closedUpTo) return head;
    // Sessions this record touches: [start, end) overlaps [t, t + gap); the rest stay, in order.
    const bridged: Win[] = [];
    const kept: Win[] = [];
    for (let w = head; w !== undefined; w = w.next)
      (w.end > closedUpTo && t < w.end && t + gap > w.start ? bridged : kept).push(w);
    let merged = new Win(t, t + gap, this.aggs.empty(), 0);
    // Merged from the last one back, as the accumulators' merge need not commute (reduce).
    for (let i = bridged.length - 1; i >= 0; i--) {
      const w = bridged[i]!;
      merged = new Win(
        Math.min(merged.start, w.start),
        Math.max(merged.end, w.end),
        this.aggs.merge(merged.accs, w.accs),
        Math.max(merged.updates, w.updates),
      );
    }
    this.aggs.add(merged.accs, env);
    // Sorted by start; the new session goes after those with the same start.
    let at = 0;
    while (at < kept.length && kept[at]!.start <= merged.start) at++;
    kept.splice(at, 0, merged);
    for (let i = 0; i < kept.length; i++) kept[i]!.next = kept[i + 1];
    this.timers.push(merged.end, key);
    this.touch(merged);
    return kept[0];
  }

  /** Emits (in close mode) and drops every window that ends at or before `closedUpTo`. */
  private fire(closedUpTo: number, out: Envelope[], appendTime: number): void {
    if (!(this.timers.size > 0 && this.timers.peekEnd() <= closedUpTo)) return;
    const close = this.emit === 'close';
    while (this.timers.size > 0 && this.timers.peekEnd() <= closedUpTo) {
      // Only the windows ending at this timer's end: a key's later windows wait for their own
      // timers, so results come out in order of end time across keys (a window after this one
      // would otherwise see an earlier end after a later one, as a late record).
      const [end, keys] = this.timers.pop()!;
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k]!;
        let head = this.cache.get(key);
        if (!head) continue; // already fired (a key may be listed twice)
        let changed = false;
        let prev: Win | undefined;
        for (let w: Win | undefined = head; w !== undefined;) {
          const next: Win | undefined = w.next;
          if (w.end > end) prev = w;
          else {
            if (close) out.push(this.result(key, w, 0, appendTime));
            if (prev === undefined) head = next;
            else prev.next = next;
            this.pool.release(w);
            changed = true;
          }
          w = next;
        }
        if (!changed) continue; // a stale timer (session grew)
        if (head === undefined) this.cache.delete(key);
        else this.cache.set(key, head);
      }
    }
  }

  private result(key: RecordKey, w: Win, update: number, appendTime: number): Envelope {
    // One stamps array for every result of this batch, as for records read together.
    const stamps = (this.stamps ??= [wallClockMs()]);
    const value = this.aggs.result(key, w);
    return new ResultEnvelope(
      value,
      w.end - 1,
      appendTime || stamps[0]!,
      stamps,
      this.ns,
      key,
      w.start,
      update,
    );
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    this.ns = ns;
    this.track = track;
    this.cache.attach(state, ns, track);
    this.wm.restore(this.cache.readMeta());
    // Timers are not stored: rebuild them from the windows in the store (once, at start). Read
    // with peek, so the scan does not pull every key into memory past maxCachedKeys.
    this.timers.clear();
    for (const key of this.cache.allKeys())
      for (let w = this.cache.peek(key); w !== undefined; w = w.next) this.timers.push(w.end, key);
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
