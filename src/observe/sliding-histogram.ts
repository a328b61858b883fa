import { LatencyHistogram } from './histogram.js';

/** Milliseconds from a monotonic clock; injectable so windows can be tested with a fake clock. */
export type Clock = () => number;

/**
 * The default monotonic clock.
 *
 * @example
 * const w = new SlidingHistogram(60_000, monotonicMs);
 */
export const monotonicMs: Clock = () => performance.now();

/**
 * A latency histogram over a sliding time window, built the way Prometheus client summaries
 * are: `ageBuckets` histograms each collect everything, and are reset in turn every
 * `windowMs / ageBuckets`; the oldest one answers, so it covers between
 * `windowMs * (1 - 1/ageBuckets)` and `windowMs`.
 * Why not one slot per second: a 3-digit HdrHistogram is ~190 KB, and merging 60 of them per
 * query is slow; here a query is one percentile walk and memory is `ageBuckets` histograms.
 * Values arrive already aggregated (`add` of a per-tick histogram), never per event.
 *
 * @example
 * const w = new SlidingHistogram(60_000);
 * const tick = new LatencyHistogram(); tick.record(3);
 * w.add(tick);
 * w.histogram().percentile(99); // 3
 */
export class SlidingHistogram {
  private readonly ring: LatencyHistogram[];
  private readonly rotateEveryMs: number;
  private current = 0;
  private lastRotateAt: number;

  constructor(
    readonly windowMs: number,
    private readonly clock: Clock = monotonicMs,
    ageBuckets = 5,
  ) {
    if (!(windowMs > 0) || !Number.isInteger(ageBuckets) || ageBuckets < 1)
      throw new RangeError(`SlidingHistogram: windowMs must be > 0 and ageBuckets >= 1`);
    this.ring = Array.from({ length: ageBuckets }, () => new LatencyHistogram());
    this.rotateEveryMs = windowMs / ageBuckets;
    this.lastRotateAt = clock();
  }

  /** Adds every value of a (per-tick) histogram to the window. */
  add(h: LatencyHistogram): void {
    this.rotate();
    if (h.count === 0) return;
    for (const b of this.ring) b.add(h);
  }

  /** The histogram covering the window (do not modify it). */
  histogram(): LatencyHistogram {
    return this.rotate();
  }

  private rotate(): LatencyHistogram {
    let since = this.clock() - this.lastRotateAt;
    // After a long pause every bucket is stale: reset them all at once instead of looping.
    if (since >= this.windowMs) {
      for (const b of this.ring) b.reset();
      const steps = Math.floor(since / this.rotateEveryMs);
      this.current = (this.current + steps) % this.ring.length;
      this.lastRotateAt += steps * this.rotateEveryMs;
      since -= steps * this.rotateEveryMs;
    }
    while (since >= this.rotateEveryMs) {
      this.ring[this.current]!.reset();
      this.current = (this.current + 1) % this.ring.length;
      since -= this.rotateEveryMs;
      this.lastRotateAt += this.rotateEveryMs;
    }
    return this.ring[this.current]!;
  }
}
