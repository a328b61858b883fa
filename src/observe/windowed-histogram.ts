import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { SlidingHistogram, monotonicMs, type Clock } from './sliding-histogram.js';

/**
 * A latency histogram with a "recent" window for live progress and a running total for the
 * final summary. Values go into the recent window only; `rollover()` folds it into the total
 * (and into any sliding windows asked for), so the hot path pays for one record, not several.
 *
 * @example
 * const h = new WindowedHistogram();
 * h.recordMany(2, 100);
 * h.rollover().p50; // 2: the last interval
 * h.window(60_000).histogram().percentile(99); // 2: the last minute (Prometheus, SLOs)
 */
export class WindowedHistogram {
  private readonly recent = new LatencyHistogram();
  private readonly total = new LatencyHistogram();
  private readonly windows = new Map<number, SlidingHistogram>();
  private sum = 0;

  constructor(private readonly clock: Clock = monotonicMs) {}

  record(ms: number): void {
    this.recent.record(ms);
  }

  recordMany(ms: number, count: number): void {
    this.recent.recordMany(ms, count);
  }

  /** See {@link LatencyHistogram.recordBucketRun}. */
  recordBucketRun(minUs: number, maxUs: number, count: number): void {
    this.recent.recordBucketRun(minUs, maxUs, count);
  }

  /** Values recorded so far, the open window included (cheap: two counters). */
  get count(): number {
    return this.recent.count + this.total.count;
  }

  /** Values folded by `rollover()`/`summary()` so far: the `_count` that matches `foldedSum`. */
  get foldedCount(): number {
    return this.total.count;
  }

  /** Sum of the folded values (ms; from the histogram's bucket midpoints, so ±0.1%). */
  get foldedSum(): number {
    return this.sum;
  }

  /**
   * Cumulative counts of the folded values at or below each bound (ms, ascending): the
   * `le` buckets matching `foldedCount`/`foldedSum`. They only grow (the total is never reset),
   * so Prometheus `rate()` works on them. Computed on demand (a scrape), never per value.
   */
  foldedCountsAtOrBelow(boundsMs: readonly number[]): number[] {
    return this.total.countsAtOrBelow(boundsMs);
  }

  /**
   * A sliding window over the last `windowMs` (created on first use, then fed at every
   * rollover). Windows only cost something once somebody asks for them.
   */
  window(windowMs: number): SlidingHistogram {
    let w = this.windows.get(windowMs);
    if (!w) {
      w = new SlidingHistogram(windowMs, this.clock);
      this.windows.set(windowMs, w);
    }
    return w;
  }

  /** Ends the current window: returns its summary and adds it to the total. */
  rollover(): LatencySummary {
    const s = this.recent.summary();
    this.fold(s);
    return s;
  }

  /** Summary over everything recorded so far (including the open window). */
  summary(): LatencySummary {
    if (this.recent.count > 0) this.fold(this.recent.summary());
    return this.total.summary();
  }

  /**
   * Takes over the running total of `previous` (an earlier run's histogram, which no longer
   * records): exported buckets, `_sum` and `_count` carry on from it instead of going back to 0.
   * Sliding windows start empty.
   */
  carryTotal(previous: WindowedHistogram): void {
    previous.summary(); // folds its open window
    this.total.add(previous.total);
    this.sum += previous.sum;
  }

  private fold(s: LatencySummary): void {
    this.sum += s.mean * s.count;
    this.total.add(this.recent);
    for (const w of this.windows.values()) w.add(this.recent);
    this.recent.reset();
  }
}
