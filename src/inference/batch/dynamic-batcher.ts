import { ModelClosedError } from '../errors.js';
import { InferenceAbortedError, QueueFullError } from '../serving-errors.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { Tensor } from '../tensor.js';
import { concatInputs, splitOutputs } from './batch-tensors.js';
import {
  levelOf,
  queueTimeoutError,
  resolveBatcherOptions,
  type DynamicBatcherOptions,
  type ResolvedBatcherOptions,
} from './batcher-options.js';
import { BatcherRecorder, type BatchCloseReason, type DynamicBatcherStats } from './batcher-stats.js';
import { KeyOrder } from './key-order.js';
import { LatencyTargetController } from './latency-target.js';
import { newRequest, PriorityQueues, RequestState, type PendingRequest } from './request-queue.js';
import { RequestShape } from './request-shape.js';
import { WakeTimer } from './wake-timer.js';

type Outputs = Record<string, Tensor>;

/**
 * Triton-style dynamic batcher in front of any {@link Model}: requests (rows or small tensors
 * from many callers) queue per priority level and are concatenated along dim 0 into one model
 * call, whose outputs are split back per request. A batch leaves as soon as it reaches
 * `maxBatchSize` (or a preferred size), and otherwise when its oldest request has waited
 * `maxQueueDelayMicros` while the model had a free slot — never later than that, beyond the
 * event loop's own lateness. It is itself a `Model`, so a pipeline's `.infer()` can use it.
 *
 * @example
 * const batcher = new DynamicBatcher(model, { maxBatchSize: 256, maxQueueDelayMicros: 500 });
 * const { score } = await batcher.run({ features: float32Tensor(row, [1, 15]) }, { key: cardId });
 * console.log(batcher.stats().meanBatchRows);
 */
export class DynamicBatcher implements Model {
  readonly metadata: ModelMetadata;
  readonly idempotent: boolean | undefined;
  readonly #model: Model;
  readonly #o: ResolvedBatcherOptions;
  readonly #shape: RequestShape;
  readonly #queues: PriorityQueues;
  readonly #rec = new BatcherRecorder();
  readonly #order = new KeyOrder();
  readonly #wake = new WakeTimer(() => this.#pump());
  /** With `batching.targetP99Ms`: sets the limit and delay below; else they stay the options'. */
  readonly #adaptive: LatencyTargetController | undefined;
  #limit: number;
  #delayMs: number;
  #inFlight = 0;
  #slotFreeSince = performance.now();
  #nextExpiry = Infinity;
  #pumpScheduled = false;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(model: Model, options: DynamicBatcherOptions) {
    this.#model = model;
    this.metadata = model.metadata;
    this.idempotent = model.idempotent;
    this.#o = resolveBatcherOptions(options, model.metadata);
    this.#shape = new RequestShape(model.metadata.inputs);
    this.#queues = new PriorityQueues(this.#o.levels.length);
    this.#limit = this.#o.maxBatchSize;
    this.#delayMs = this.#o.delayMs;
    if (this.#o.batching !== undefined) {
      this.#adaptive = new LatencyTargetController(
        this.#o.batching,
        this.#o.maxBatchSize,
        this.#o.delayMs,
        performance.now(),
      );
      this.#limit = this.#adaptive.batchLimit;
      this.#delayMs = this.#adaptive.delayMs;
    }
  }

  /**
   * Queues one request (all inputs share dim 0, its row count) and resolves with its own rows
   * of every output. Rejects with `QueueFullError`, `QueueTimeoutError`, the model's error, or a
   * `ModelInputError` (at once, before queueing) when the inputs do not fit the model.
   *
   * @example
   * const out = await batcher.run({ features: float32Tensor(rows, [3, 15]) }, { priority: 1 });
   */
  run(inputs: Outputs, options?: ModelRunOptions): Promise<Outputs> {
    if (this.#closing !== undefined)
      return Promise.reject(new ModelClosedError(`batcher "${this.#o.name}" is closed: create a new one`));
    let rows: number;
    let level: number;
    try {
      rows = this.#shape.admit(inputs);
      level = levelOf(this.#o, options?.priority);
    } catch (err) {
      return Promise.reject(err);
    }
    if (rows === 0) return this.#model.run(inputs);
    const policy = this.#o.levels[level]!;
    const waiting = this.#queues.levels[level]!.size;
    if (waiting >= policy.maxQueueSize) {
      this.#rec.queueFull++;
      return Promise.reject(
        new QueueFullError(
          `batcher "${this.#o.name}" holds ${waiting} requests at priority ${level + 1} (maxQueueSize): slow down or raise it`,
        ),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(new InferenceAbortedError('the request was aborted'));
    const now = performance.now();
    let timeoutMs = policy.timeoutMs;
    if (options?.queueTimeoutMicros !== undefined && policy.allowOverride)
      timeoutMs = options.queueTimeoutMicros / 1000;
    const { req, promise } = newRequest(inputs, rows, level, now, timeoutMs);
    req.outputs = options?.outputs;
    if (options?.key !== undefined) this.#order.link(req, options.key);
    if (signal !== undefined) this.#watchAbort(req, signal);
    this.#queues.push(req);
    this.#rec.requests++;
    this.#rec.rows += rows;
    if (req.expiresAt < this.#nextExpiry) this.#nextExpiry = req.expiresAt;
    // A full batch leaves now; otherwise wait one tick so that concurrent callers coalesce.
    if (this.#queues.rows >= this.#limit && this.#inFlight < this.#o.maxInFlight) this.#pump(now);
    else this.#schedulePump();
    return promise;
  }

  /**
   * A snapshot of counters (requests, batches, timeouts...), gauges (queued, in flight) and
   * wait/latency percentiles in microseconds.
   *
   * @example
   * const { holdMicros, closedBy } = batcher.stats();
   */
  stats(): DynamicBatcherStats {
    const s = this.#rec.snapshot(this.#o.name, {
      queued: this.#queues.size,
      queuedRows: this.#queues.rows,
      inFlightBatches: this.#inFlight,
    });
    if (this.#adaptive !== undefined) s.adaptive = this.#adaptive.stats();
    return s;
  }

  /**
   * Stops accepting requests, dispatches everything queued without waiting for the delay,
   * waits for running batches, then closes the wrapped model (unless `closeModel: false`).
   *
   * @example
   * await batcher.close();
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const drained = new Promise<void>((resolve) => (this.#drained = resolve));
    this.#closing = drained.then(async () => {
      this.#wake.clear();
      if (this.#o.closeModel) await this.#model.close();
    });
    this.#pump();
    this.#checkDrained();
    return this.#closing;
  }

  #pump(now = performance.now()): void {
    if (now >= this.#nextExpiry) this.#nextExpiry = this.#queues.expire(now, (r) => this.#timeout(r, now));
    const o = this.#o;
    const q = this.#queues;
    const max = this.#limit;
    while (this.#inFlight < o.maxInFlight && q.size > 0) {
      let limit = max;
      let reason: BatchCloseReason = 'size';
      if (q.head()!.rows < max && q.rows < max) {
        const preferred = o.preferred.find((p) => p <= max && p <= q.rows && q.prefixRows(p) === p);
        if (preferred !== undefined) {
          limit = preferred;
          reason = 'preferred';
        } else if (this.#closing !== undefined) {
          reason = 'drain';
        } else {
          const deadline = q.oldest() + this.#delayMs;
          if (now < deadline) {
            this.#wake.at(Math.min(deadline, this.#nextExpiry));
            return;
          }
          reason = 'delay';
        }
      }
      this.#dispatch(limit, reason, now);
    }
    if (q.size === 0) this.#wake.clear();
    else if (this.#nextExpiry < Infinity) this.#wake.at(this.#nextExpiry); // model busy: timeouts still fire
  }

  #dispatch(limit: number, reason: BatchCloseReason, now: number): void {
    const { batch, rows, oldest } = this.#queues.take(limit);
    if (this.#inFlight++ === 0) this.#adaptive?.busy(true, now);
    this.#rec.hold.record(now - Math.max(oldest, this.#slotFreeSince));
    this.#rec.batch(rows, reason);
    const inputs = batch.length === 1 ? batch[0]!.inputs : concatInputs(batch.map((r) => r.inputs));
    const t0 = performance.now();
    for (const r of batch) this.#rec.queueWait.record(t0 - r.enqueuedAt);
    let pending: Promise<Outputs>;
    try {
      pending = this.#model.run(inputs);
    } catch (err) {
      pending = Promise.reject(err);
    }
    const full = rows >= limit;
    pending.then(
      (out) => this.#complete(batch, rows, out, t0, full),
      (err: unknown) => this.#fail(batch, err),
    );
  }

  #complete(batch: PendingRequest[], rows: number, out: Outputs, t0: number, full: boolean): void {
    const t1 = performance.now();
    this.#release(t1);
    const runMs = t1 - t0;
    this.#rec.modelRun.record(runMs);
    let parts: Outputs[];
    try {
      parts = batch.length === 1 ? [out] : splitOutputs(out, rows, batch);
    } catch (err) {
      for (const r of batch) this.#settle(r, undefined, err);
      parts = [];
    }
    for (let i = 0; i < parts.length; i++) this.#settle(batch[i]!, parts[i], undefined);
    const t2 = performance.now();
    for (const r of batch) this.#rec.added.record(t2 - r.enqueuedAt - runMs);
    if (this.#adaptive !== undefined) this.#adapt(batch, runMs, full, t2);
    this.#pump(t2);
    this.#checkDrained();
  }

  #fail(batch: PendingRequest[], err: unknown): void {
    this.#release(performance.now());
    this.#rec.failedBatches++;
    for (const r of batch) this.#settle(r, undefined, err);
    this.#pump();
    this.#checkDrained();
  }

  #release(now: number): void {
    if (this.#inFlight === this.#o.maxInFlight) this.#slotFreeSince = now;
    if (--this.#inFlight === 0) this.#adaptive?.busy(false, now);
  }

  /** Feeds the latency-target controller one batch's results, and takes its knobs. */
  #adapt(batch: PendingRequest[], runMs: number, full: boolean, now: number): void {
    const c = this.#adaptive!;
    for (const r of batch) c.observe(now - r.enqueuedAt);
    c.batchDone(runMs, full);
    if (c.maybeAdjust(now)) {
      this.#limit = c.batchLimit;
      this.#delayMs = c.delayMs;
    }
  }

  /** Delivers a result once; with a key, after the key's previous request's result. */
  #settle(r: PendingRequest, out: Outputs | undefined, err: unknown): void {
    if (r.state === RequestState.settled) return;
    r.state = RequestState.settled;
    if (r.onAbort !== undefined) r.signal!.removeEventListener('abort', r.onAbort);
    if (r.key === undefined) {
      if (out !== undefined) r.resolve(out);
      else r.reject(err);
    } else this.#order.deliver(r, () => (out !== undefined ? r.resolve(out) : r.reject(err)));
  }

  #timeout(r: PendingRequest, now: number): void {
    this.#rec.queueTimeouts++;
    const err = queueTimeoutError(this.#o.name, r.level, now - r.enqueuedAt);
    const fallback = this.#o.fallback;
    if (this.#o.levels[r.level]!.action !== 'fallback' || fallback === undefined) {
      this.#settle(r, undefined, err);
      return;
    }
    this.#rec.timeoutFallbacks++;
    r.state = RequestState.dispatched;
    Promise.resolve()
      .then(() => fallback(r.inputs, err))
      .then(
        (out) => this.#settle(r, out, undefined),
        (e: unknown) => this.#settle(r, undefined, e),
      );
  }

  #watchAbort(r: PendingRequest, signal: AbortSignal): void {
    r.signal = signal;
    r.onAbort = () => {
      if (r.state === RequestState.settled) return;
      if (r.state === RequestState.queued) this.#queues.forget(r);
      this.#rec.aborted++;
      this.#settle(
        r,
        undefined,
        new InferenceAbortedError('the request was aborted', { cause: signal.reason }),
      );
      this.#checkDrained();
    };
    signal.addEventListener('abort', r.onAbort, { once: true });
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#queues.size === 0 && this.#inFlight === 0) {
      const done = this.#drained;
      this.#drained = undefined;
      done();
    }
  }
}
