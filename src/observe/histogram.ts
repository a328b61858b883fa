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

/** The microseconds a duration in ms is recorded as: rounded, negative (clock skew) as 0, clamped to 1 h. */
export function recordedMicros(ms: number): number {
  const us = Math.round(ms * MICROS_PER_MS);
  if (!(us >= 0)) return 0;
  return us > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : us;
}

/**
 * Which bucket of the histogram below `us` (from {@link recordedMicros}) counts in: equal keys,
 * same bucket. The layout of HdrHistogram at 3 significant digits with a unit of 1: 2,048 values
 * of 1 µs below 2,048, then buckets whose resolution doubles with each power of two (shift);
 * 1 h fits in 32 bits. Lets a batch's per-record durations (event-time lag, end to end) be
 * recorded as runs of one bucket: one hdr call per record was ~5 % of a pipeline's time.
 *
 * @example
 * bucketKey(recordedMicros(1000.0004)) === bucketKey(recordedMicros(1000.0001)); // true
 */
export function bucketKey(us: number): number {
  const shift = 21 - Math.clz32(us | 2047);
  return (shift << 12) | (us >>> shift);
}

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
  // The JavaScript implementation (`build` without WebAssembly), typed as such for its bucket API.
  private readonly hist = hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  }) as hdr.JsHistogram;

  /** Records one duration in milliseconds; negative values (clock skew) count as 0. */
  record(ms: number): void {
    this.hist.recordValue(recordedMicros(ms));
  }

  /**
   * Records `count` values whose microseconds (from {@link recordedMicros}) share one bucket
   * ({@link bucketKey}), the smallest `minUs` and the largest `maxUs`: the same counts, min and
   * max as recording each value, in at most two calls.
   */
  recordBucketRun(minUs: number, maxUs: number, count: number): void {
    if (count <= 0) return;
    this.hist.recordValue(minUs);
    if (count > 1) this.hist.recordValueWithCount(maxUs, count - 1);
  }

  /** Records the same duration `count` times (one batch sharing one timing). */
  recordMany(ms: number, count: number): void {
    if (count <= 0) return;
    this.hist.recordValueWithCount(recordedMicros(ms), count);
  }

  get count(): number {
    return this.hist.totalCount;
  }

  /** Value at a percentile (0–100), in milliseconds. */
  percentile(p: number): number {
    const h = this.hist;
    return h.totalCount === 0 ? 0 : Math.min(h.getValueAtPercentile(p), h.maxValue) / MICROS_PER_MS;
  }

  /**
   * Adds every value of `other` into this histogram. Walks `other`'s buckets from its min to its max only:
   * hdr's own `add` walks all ~45,000 of the one-hour range, and every metrics tick folds each
   * stage's window this way (see `summary`).
   */
  add(other: LatencyHistogram): void {
    const o = other.hist;
    if (o.totalCount === 0) return;
    const h = this.hist;
    const [first, last] = recordedRange(o);
    for (let i = first; i <= last; i++) {
      const c = o.getCountAtIndex(i);
      if (c > 0) h.recordValueWithCount(o.valueFromIndex(i), c);
    }
    // The exact max and min, not their buckets' lowest values (a count of 0 records nothing else).
    h.recordValueWithCount(o.maxValue, 0);
    if (o.minNonZeroValue < Number.MAX_SAFE_INTEGER) h.recordValueWithCount(o.minNonZeroValue, 0);
  }

  reset(): void {
    this.hist.reset();
  }

  /**
   * How many values are at most each bound (milliseconds, ascending): the cumulative `le`
   * buckets of a Prometheus histogram. One pass over the recorded buckets; a value counts
   * under a bound when its HdrHistogram bucket starts at or below it (3 significant digits, so
   * a value within 0.1 % above a bound may count under it).
   *
   * @example
   * const h = new LatencyHistogram(); h.record(0.3); h.record(4);
   * h.countsAtOrBelow([1, 5]); // [1, 2]
   */
  countsAtOrBelow(boundsMs: readonly number[]): number[] {
    const h = this.hist;
    const out = new Array<number>(boundsMs.length).fill(0);
    if (h.totalCount === 0) return out;
    const boundsUs = boundsMs.map((b) => b * MICROS_PER_MS);
    let k = 0;
    const [first, last] = recordedRange(h);
    for (let i = first; i <= last && k < boundsUs.length; i++) {
      const c = h.getCountAtIndex(i);
      if (c === 0) continue;
      const v = h.valueFromIndex(i);
      while (k < boundsUs.length && v > boundsUs[k]!) k++;
      if (k < boundsUs.length) out[k]! += c;
    }
    for (let j = 1; j < out.length; j++) out[j]! += out[j - 1]!;
    return out;
  }

  /**
   * Count, p50/p90/p99/p99.9, max and mean, with the values hdr's `getValueAtPercentile` and
   * `mean` give, in one pass over the buckets from the min to the max. hdr scans from the first bucket for
   * each percentile and walks an allocating iterator for the mean: 1–2 ms per histogram, and the
   * metrics tick summarises every stage's, so the event loop stalled for 20–40 ms each second
   * (it showed as the recommendations demo's serving p99).
   */
  summary(): LatencySummary {
    const h = this.hist;
    const n = h.totalCount;
    if (n === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const max = h.maxValue;
    const wanted = SUMMARY_PERCENTILES.map((p) => countAtPercentile(p, n));
    const values = [0, 0, 0, 0];
    let k = 0;
    let seen = 0;
    let sum = 0;
    const [first, last] = recordedRange(h);
    for (let i = first; i <= last; i++) {
      const c = h.getCountAtIndex(i);
      if (c === 0) continue;
      const v = h.valueFromIndex(i);
      seen += c;
      sum += h.medianEquivalentValue(v) * c;
      // HdrHistogram reports the top of a value's bucket; never report a percentile above the max.
      for (; k < wanted.length && seen >= wanted[k]!; k++)
        values[k] = Math.min(h.highestEquivalentValue(v), max);
    }
    const [p50, p90, p99, p999] = values.map((v) => v / MICROS_PER_MS) as [number, number, number, number];
    return { count: n, p50, p90, p99, p999, max: max / MICROS_PER_MS, mean: sum / n / MICROS_PER_MS };
  }
}

const SUMMARY_PERCENTILES = [50, 90, 99, 99.9];

/**
 * The bucket indexes from the smallest recorded value to the largest: the only ones a summary
 * or an add has to visit (an event-time lag clamped at one hour sits in the very last bucket).
 */
function recordedRange(h: hdr.JsHistogram): [number, number] {
  const last = h.countsArrayIndex(h.maxValue);
  if (h.getCountAtIndex(0) > 0 || !(h.minNonZeroValue < Number.MAX_SAFE_INTEGER)) return [0, last];
  return [h.countsArrayIndex(h.minNonZeroValue), last];
}

/** The rank hdr's `getValueAtPercentile` looks for: ⌈p % of n⌉ (guarded against one ulp of rounding), at least 1. */
function countAtPercentile(p: number, n: number): number {
  const fp = (Math.min(p, 100) / 100) * n;
  const ulp = 2 ** (Math.floor(Math.log2(fp)) - 52);
  return Math.max(Math.ceil(fp - ulp), 1);
}
