import * as hdr from 'hdr-histogram-js';

/** Percentiles of one latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const MICROS_PER_MS = 1000;
// One hour in microseconds: anything slower is clamped rather than dropped, so counts stay exact.
const HIGHEST_TRACKABLE_US = 3_600_000_000;

/**
 * A latency histogram (HdrHistogram, 3 significant digits) that takes milliseconds and stores
 * microseconds, so sub-millisecond stage times keep their resolution.
 *
 * @example
 * const h = new LatencyHistogram();
 * h.record(0.42); h.record(12);
 * h.summary().p99; // ≈ 12
 */
export class LatencyHistogram {
  private readonly hist = hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });

  /** Records one duration in milliseconds; negative values (clock skew) count as 0. */
  record(ms: number): void {
    let us = Math.round(ms * MICROS_PER_MS);
    if (!(us >= 0)) us = 0;
    else if (us > HIGHEST_TRACKABLE_US) us = HIGHEST_TRACKABLE_US;
    this.hist.recordValue(us);
  }

  /** Records the same duration `count` times (one batch sharing one timing). */
  recordMany(ms: number, count: number): void {
    if (count <= 0) return;
    let us = Math.round(ms * MICROS_PER_MS);
    if (!(us >= 0)) us = 0;
    else if (us > HIGHEST_TRACKABLE_US) us = HIGHEST_TRACKABLE_US;
    this.hist.recordValueWithCount(us, count);
  }

  get count(): number {
    return this.hist.totalCount;
  }

  /** Value at a percentile (0–100), in milliseconds. */
  percentile(p: number): number {
    const h = this.hist;
    return h.totalCount === 0 ? 0 : Math.min(h.getValueAtPercentile(p), h.maxValue) / MICROS_PER_MS;
  }

  /** Adds every value of `other` into this histogram. */
  add(other: LatencyHistogram): void {
    this.hist.add(other.hist);
  }

  reset(): void {
    this.hist.reset();
  }

  summary(): LatencySummary {
    const h = this.hist;
    if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const max = h.maxValue;
    // HdrHistogram reports the top of a value's bucket; never report a percentile above the max.
    const at = (p: number) => Math.min(h.getValueAtPercentile(p), max) / MICROS_PER_MS;
    return {
      count: h.totalCount,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: max / MICROS_PER_MS,
      mean: h.mean / MICROS_PER_MS,
    };
  }
}
