// The source a test driver feeds: records wait in memory until the pipeline polls them, one
// batch per `feed` call, with the event time, key and partition the test gave. Offsets are
// positions in an append-only list per partition, so checkpoints and restarts behave as with a log.

import { envelope, offsetKey, type Envelope, type RecordKey, type Source } from '../stream/index.js';

/**
 * How one record enters the pipeline.
 *
 * @example
 * await driver.pipe([{ value: tx, eventTime: Date.parse('2026-01-01T00:00:05Z'), key: 'card-1', partition: 1 }]);
 */
export interface InputRecord<T> {
  value: T;
  /** Event time, epoch ms; default the driver's current event time (the last one given, else 0). */
  eventTime?: number;
  /** The record's key, as a keyed log would give it (a later `.keyBy()` replaces it). */
  key?: RecordKey;
  /** Source partition; default 0. Watermarks wait for every partition that has had records. */
  partition?: number;
}

interface Stored {
  value: unknown;
  eventTime: number;
  key: RecordKey | undefined;
}

/**
 * A controllable in-memory source (one topic, any number of partitions); it never ends. The
 * driver makes one (`t.input`) and feeds it; tests use it through the driver.
 *
 * @example
 * testDriver<Tx>((t) => pipeline('p').from(t.input).to(t.output)); // t.input is a DriverSource<Tx>
 */
export class DriverSource<T = unknown> implements Source<T> {
  readonly name: string;
  /** Every record fed, per partition, kept across restarts (the "log"). */
  private readonly log = new Map<number, Stored[]>();
  /** Next offset to read per partition (for the current run). */
  private next = new Map<number, number>();
  /** Polls that found nothing to read: the driver waits for one after each step. */
  idlePolls = 0;
  private mark = -Infinity;
  private wake: (() => void) | undefined;
  /** Set by the driver to make the next poll throw (a simulated crash). */
  crash: Error | undefined;

  constructor(
    readonly topic: string,
    partitions: number,
  ) {
    this.name = `test-driver:${topic}`;
    // Declared up front, so watermarks wait for each from the start (as a log's partitions).
    for (let p = 0; p < partitions; p++) this.log.set(p, []);
  }

  /** Appends records to their partitions; the pipeline reads them on its next poll. */
  feed(records: readonly InputRecord<T>[], defaultTime: number): void {
    for (const r of records) {
      const p = r.partition ?? 0;
      let list = this.log.get(p);
      if (!list) this.log.set(p, (list = []));
      list.push({ value: r.value, eventTime: r.eventTime ?? defaultTime, key: r.key });
      if (!this.next.has(p)) this.next.set(p, 0);
    }
    this.wake?.();
  }

  /** Declares event time complete up to `t` (windows close up to it on the next poll). */
  advanceWatermark(t: number): void {
    if (t > this.mark) this.mark = t;
    this.wake?.();
  }

  /** Wakes a waiting poll (the clock moved: a checkpoint may be due). */
  nudge(): void {
    this.wake?.();
  }

  /** Records fed but not read yet. */
  pending(): number {
    let n = 0;
    for (const [p, list] of this.log) n += list.length - (this.next.get(p) ?? 0);
    return n;
  }

  async open(ctx: { startOffsets: Record<string, number> | undefined }): Promise<void> {
    this.next = new Map();
    for (const p of this.log.keys()) this.next.set(p, ctx.startOffsets?.[offsetKey(this.topic, p)] ?? 0);
    this.crash = undefined;
  }

  async poll(max: number): Promise<Envelope<T>[] | null> {
    if (this.crash) throw this.crash;
    const out: Envelope<T>[] = [];
    const stamps = [Date.now()];
    for (const [p, list] of this.log) {
      let i = this.next.get(p) ?? 0;
      for (; i < list.length && out.length < max; i++) {
        const s = list[i]!;
        // Appended now (latency figures start here); the event time is the test's.
        const env = envelope(s.value as T, this.topic, p, i, stamps[0]!, stamps);
        env.eventTime = s.eventTime;
        env.key = s.key;
        out.push(env);
      }
      this.next.set(p, i);
    }
    if (out.length > 0) return out;
    this.idlePolls++;
    // Nothing to read: wait briefly (or until the test feeds or moves time), as a log source does.
    await new Promise<void>((resolve) => {
      // Unref'd: a driver a test forgot to close does not keep the process alive.
      const timer = setTimeout(done, 5).unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
    return [];
  }

  watermark(): number {
    return this.mark;
  }

  positions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [p, n] of this.next) out[offsetKey(this.topic, p)] = n;
    return out;
  }

  partitions(): string[] {
    return [...this.log.keys()].map((p) => offsetKey(this.topic, p));
  }

  lag(): number {
    return this.pending();
  }

  async close(): Promise<void> {
    this.wake?.();
  }
}
