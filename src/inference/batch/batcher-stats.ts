import { MicrosHistogram, type MicrosSummary } from '../micros-histogram.js';
import type { AdaptiveBatchingStats } from './latency-target.js';

/**
 * Why a batch left the queue: it reached `maxBatchSize` (or one request filled it), it
 * reached a preferred size, its oldest request waited `maxQueueDelayMicros`, or the batcher
 * was closing.
 *
 * @example
 * const why: BatchCloseReason = 'delay';
 */
export type BatchCloseReason = 'size' | 'preferred' | 'delay' | 'drain';

/**
 * A snapshot of a {@link DynamicBatcher}'s counters and gauges.
 *
 * @example
 * const s: DynamicBatcherStats = batcher.stats(); console.log(s.meanBatchRows, s.holdMicros.p99);
 */
export interface DynamicBatcherStats {
  name: string;
  /** Requests accepted into the queue. */
  requests: number;
  rows: number;
  batches: number;
  meanBatchRows: number;
  maxBatchRows: number;
  closedBy: Record<BatchCloseReason, number>;
  /** Gauges: requests and rows waiting now, batches running now. */
  queued: number;
  queuedRows: number;
  inFlightBatches: number;
  queueFull: number;
  queueTimeouts: number;
  timeoutFallbacks: number;
  aborted: number;
  failedBatches: number;
  /**
   * How long the oldest request of each batch was held while the model had a free slot
   * (dispatch − max(enqueue, slot free)): at most the delay knob plus event-loop lateness.
   */
  holdMicros: MicrosSummary;
  /** Per request: enqueue → its batch's model call. */
  queueWaitMicros: MicrosSummary;
  /** Per request: (result handed back − enqueue) − the model's run time: what batching added. */
  addedLatencyMicros: MicrosSummary;
  /** Per batch: the model's run time. */
  modelRunMicros: MicrosSummary;
  /** With `batching.targetP99Ms`: the knobs in force and the last window's p99. */
  adaptive?: AdaptiveBatchingStats;
}

/**
 * The batcher's counters and histograms (kept here: `src/observe` has histograms only).
 *
 * @example
 * const rec = new BatcherRecorder(); rec.hold.record(0.2);
 */
export class BatcherRecorder {
  requests = 0;
  rows = 0;
  batches = 0;
  batchRows = 0;
  maxBatchRows = 0;
  closedBy: Record<BatchCloseReason, number> = { size: 0, preferred: 0, delay: 0, drain: 0 };
  queueFull = 0;
  queueTimeouts = 0;
  timeoutFallbacks = 0;
  aborted = 0;
  failedBatches = 0;
  readonly hold = new MicrosHistogram();
  readonly queueWait = new MicrosHistogram();
  readonly added = new MicrosHistogram();
  readonly modelRun = new MicrosHistogram();

  batch(rows: number, reason: BatchCloseReason): void {
    this.batches++;
    this.batchRows += rows;
    if (rows > this.maxBatchRows) this.maxBatchRows = rows;
    this.closedBy[reason]++;
  }

  snapshot(
    name: string,
    gauges: { queued: number; queuedRows: number; inFlightBatches: number },
  ): DynamicBatcherStats {
    return {
      name,
      requests: this.requests,
      rows: this.rows,
      batches: this.batches,
      meanBatchRows: this.batches === 0 ? 0 : this.batchRows / this.batches,
      maxBatchRows: this.maxBatchRows,
      closedBy: { ...this.closedBy },
      ...gauges,
      queueFull: this.queueFull,
      queueTimeouts: this.queueTimeouts,
      timeoutFallbacks: this.timeoutFallbacks,
      aborted: this.aborted,
      failedBatches: this.failedBatches,
      holdMicros: this.hold.summary(),
      queueWaitMicros: this.queueWait.summary(),
      addedLatencyMicros: this.added.summary(),
      modelRunMicros: this.modelRun.summary(),
    };
  }
}
