import { InvalidArgumentError } from '../errors.js';

/**
 * `batching` option of a {@link DynamicBatcher}: adapt the batch size and queue delay online to
 * a per-request latency objective instead of fixing them.
 *
 * @example
 * const batching: AdaptiveBatchingOptions = { targetP99Ms: 20 };
 */
export interface AdaptiveBatchingOptions {
  /** The p99 of per-request latency (enqueue → result) to stay under, in milliseconds. */
  targetP99Ms: number;
  /** Smallest batch-size limit the controller may set; default 1. */
  minBatchSize?: number;
}

/**
 * What the controller runs with now, and what it saw in its last decision window.
 *
 * @example
 * const { batchLimit, delayMicros } = batcher.stats().adaptive!;
 */
export interface AdaptiveBatchingStats {
  targetP99Ms: number;
  /** Batch-size limit in force (between `minBatchSize` and `maxBatchSize`). */
  batchLimit: number;
  /** Queue delay in force, µs (between 0 and `maxQueueDelayMicros`). */
  delayMicros: number;
  /** p99 of request latency in the last decision window, µs. */
  windowP99Micros: number;
  /** Share of the last window the model had a batch running (0..1). */
  windowBusy: number;
  /** Knob changes made so far. */
  adjustments: number;
}

/** Samples a decision needs (the p99 of fewer is about one outlier), and the most a window keeps. */
const MIN_SAMPLES = 200;
const WINDOW = 2048;
/** Below this share of the target there is headroom to buy throughput with; above 1 it is missed. */
const HEADROOM = 0.75;
/**
 * A batch limit whose calls take this share of the target (median, as dispatched, so with the
 * wait behind other calls in flight) is too big to hold it; below the lower share it may grow.
 */
const RUN_SHRINK = 0.5;
const RUN_GROW = 0.35;
/** The model is the bottleneck above this busy share, and a delay buys nothing below the other. */
const BUSY_HIGH = 0.85;
const BUSY_LOW = 0.5;
/**
 * The most delay per ms of the window's median call (dispatch → answer): while the batcher's
 * other batches run, a held batch only gathers rows; longer, and the model waits for it.
 */
const DELAY_PER_RUN = 0.5;
/** Share of batches closed by the size limit above which the limit is what shapes batches. */
const LIMIT_BINDS = 0.3;

/**
 * The batcher's latency-target controller: a sliding window of observed per-request latency,
 * one decision per window (≥ 200 results and ≥ twice the target), then a fresh window so
 * each decision judges the knobs in force.
 * - p99 over the target: calls that alone take half the target (median) mean batches too big:
 *   the delay is halved, or with none left the limit shrinks by 30 %. Otherwise, on a model
 *   busy ≥ 85 % of the window the latency is queueing, which only more rows per call cut: the
 *   delay grows by a twentieth of the target (and a binding limit by half). On a model with
 *   idle time the delay is pure added latency and is halved.
 * - p99 under 75 % of the target (headroom): a binding limit grows by 25 %, and while the
 *   model is busy ≥ 85 % of the time the delay grows by a twentieth of the target, so that
 *   calls carry more rows each; a delay on a model idle half the time is halved.
 * - in between: hold. Both knobs stay within their bounds, and the delay within half the
 *   window's median call (dispatch → answer): while other batches run, a held batch only gathers
 *   rows, but a longer delay leaves the model idle. Without that cap a model busy ≥ 85 % (near
 *   saturation) saw the delay grow every window up to its bound, which then idled the model
 *   between calls: p99 41–45 ms against 35–38 ms with the cap in a virtual-clock run of the
 *   `inference_adaptive` bench's model with loop stalls (6 seeds).
 *
 * @example
 * const c = new LatencyTargetController({ targetP99Ms: 20 }, 512, 5, performance.now());
 */
export class LatencyTargetController {
  readonly targetMs: number;
  batchLimit: number;
  delayMs = 0;
  adjustments = 0;
  readonly #min: number;
  readonly #max: number;
  readonly #maxDelayMs: number;
  readonly #samples = new Float64Array(WINDOW);
  #n = 0;
  #windowStart: number;
  #batches = 0;
  #sizeClosed = 0;
  #runs: number[] = [];
  #busyMs = 0;
  #busySince = -1;
  #last: { p99: number; busy: number } = { p99: 0, busy: 0 };

  constructor(o: AdaptiveBatchingOptions, maxBatchSize: number, maxDelayMs: number, now: number) {
    if (!(Number.isFinite(o.targetP99Ms) && o.targetP99Ms > 0))
      throw new InvalidArgumentError(`batching.targetP99Ms is ${o.targetP99Ms}: pass a latency in ms > 0`);
    const min = o.minBatchSize ?? 1;
    if (!Number.isInteger(min) || min < 1 || min > maxBatchSize)
      throw new InvalidArgumentError(
        `batching.minBatchSize is ${min}: pass an integer in 1..maxBatchSize (${maxBatchSize})`,
      );
    this.targetMs = o.targetP99Ms;
    this.#min = min;
    this.#max = maxBatchSize;
    this.#maxDelayMs = maxDelayMs;
    // start greedy: no delay, any size; the window then says which way to go
    this.batchLimit = maxBatchSize;
    this.#windowStart = now;
  }

  /** One request's latency, enqueue → result, ms. */
  observe(latencyMs: number): void {
    this.#samples[this.#n++ % WINDOW] = latencyMs;
  }

  /** One finished batch: its rows' model time, and whether it left because it hit the limit. */
  batchDone(runMs: number, hitLimit: boolean): void {
    this.#batches++;
    if (hitLimit) this.#sizeClosed++;
    this.#runs.push(runMs);
  }

  /** The model went from idle to busy (`true`) or back. */
  busy(isBusy: boolean, now: number): void {
    if (isBusy && this.#busySince < 0) this.#busySince = now;
    else if (!isBusy && this.#busySince >= 0) {
      this.#busyMs += now - this.#busySince;
      this.#busySince = -1;
    }
  }

  /** Decides when the window holds enough; returns whether a knob changed. */
  maybeAdjust(now: number): boolean {
    const elapsed = now - this.#windowStart;
    // two targets' time at least: a window shorter than the latencies it judges sees only noise
    if (this.#n < MIN_SAMPLES || elapsed < this.targetMs * 2) return false;
    const p99 = percentile(this.#samples.subarray(0, Math.min(this.#n, WINDOW)), 0.99);
    const busyMs = this.#busyMs + (this.#busySince >= 0 ? now - this.#busySince : 0);
    const busy = Math.min(1, busyMs / elapsed);
    // the median call, not the p99: one late timer must not shrink the limit
    const run = percentile(Float64Array.from(this.#runs), 0.5);
    const binds = this.#sizeClosed > LIMIT_BINDS * this.#batches;
    this.#last = { p99, busy };
    const before = [this.batchLimit, this.delayMs];
    const step = this.targetMs / 20;
    // A delay pays while the batch it holds back would only wait behind the call in flight;
    // one longer than a call leaves the model idle, and the queue (so the p99) grows from there.
    const delayCap = Math.min(this.#maxDelayMs, DELAY_PER_RUN * run);
    if (p99 > this.targetMs) {
      if (run >= RUN_SHRINK * this.targetMs) {
        // the calls themselves are too long: smaller batches, and no delay before them
        if (this.delayMs > 0) this.#halveDelay();
        else this.#setLimit(Math.floor(this.batchLimit * 0.7));
      } else if (busy >= BUSY_HIGH) {
        // a saturated model: the wait is queueing, and only more rows per call cut it
        this.delayMs = Math.min(delayCap, this.delayMs + step);
        if (binds) this.#setLimit(Math.ceil(this.batchLimit * 1.5));
      } else if (this.delayMs > 0) this.#halveDelay(); // an idle model: the delay is pure latency
    } else if (p99 < HEADROOM * this.targetMs) {
      if (binds && run < RUN_GROW * this.targetMs) this.#setLimit(Math.ceil(this.batchLimit * 1.25));
      if (busy >= BUSY_HIGH) this.delayMs = Math.min(delayCap, this.delayMs + step);
      else if (busy < BUSY_LOW && this.delayMs > 0) this.#halveDelay();
    }
    // whatever the p99 says, never more than the cap: past it the delay only adds latency
    if (this.delayMs > delayCap) this.delayMs = delayCap;
    this.#n = 0;
    this.#batches = 0;
    this.#sizeClosed = 0;
    this.#runs = [];
    this.#busyMs = 0;
    if (this.#busySince >= 0) this.#busySince = now;
    this.#windowStart = now;
    const changed = before[0] !== this.batchLimit || before[1] !== this.delayMs;
    if (changed) this.adjustments++;
    return changed;
  }

  stats(): AdaptiveBatchingStats {
    return {
      targetP99Ms: this.targetMs,
      batchLimit: this.batchLimit,
      delayMicros: Math.round(this.delayMs * 1000),
      windowP99Micros: Math.round(this.#last.p99 * 1000),
      windowBusy: Math.round(this.#last.busy * 1000) / 1000,
      adjustments: this.adjustments,
    };
  }

  #halveDelay(): void {
    this.delayMs = this.delayMs < 0.02 ? 0 : this.delayMs / 2;
  }

  #setLimit(limit: number): void {
    this.batchLimit = Math.max(this.#min, Math.min(this.#max, limit));
  }
}

/** The q-quantile of a few thousand samples (sorts a copy: once per decision, not per request). */
function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
