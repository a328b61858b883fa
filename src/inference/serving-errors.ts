// Errors of serving: batching, resilience, remote servers, worker threads, hot swap.
import { InferenceError, InferenceErrorCodes } from './errors.js';

/**
 * A {@link DynamicBatcher} queue (for the request's priority level) holds `maxQueueSize`
 * requests already: the request is rejected at once, so memory stays bounded under overload.
 *
 * @example
 * if (err instanceof QueueFullError) slowDown();
 */
export class QueueFullError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.queueFull, message, { retryable: true });
  }
}

/**
 * A request waited in a {@link DynamicBatcher} queue longer than its queue timeout, and the
 * timeout action is `reject`.
 *
 * @example
 * if (err instanceof QueueTimeoutError) console.warn(err.waitedMicros);
 */
export class QueueTimeoutError extends InferenceError {
  /** How long the request had waited when it was dropped, in microseconds. */
  readonly waitedMicros: number;

  constructor(message: string, waitedMicros: number) {
    super(InferenceErrorCodes.queueTimeout, message, { retryable: true });
    this.waitedMicros = waitedMicros;
  }
}

/**
 * A batched model returned an output whose first dim is not the batch's row count, so it
 * cannot be split back into per-request results.
 *
 * @example
 * // output "total" has dims [1], but the batch has 12 rows
 */
export class BatchOutputError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.batchOutput, message);
  }
}

/**
 * A model call took longer than the resilience timeout; the attempt was aborted.
 *
 * @example
 * if (err instanceof InferenceTimeoutError) console.warn(err.timeoutMs);
 */
export class InferenceTimeoutError extends InferenceError {
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.timeout, message, { cause: options?.cause, retryable: true });
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The circuit breaker is open (or a half-open probe is running): the call was not attempted.
 *
 * @example
 * if (err instanceof CircuitOpenError) useCachedScore();
 */
export class CircuitOpenError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.circuitOpen, message, options);
  }
}

/**
 * The bulkhead's execution slots and queue are full: the call was rejected without running.
 *
 * @example
 * if (err instanceof BulkheadFullError) shedLoad();
 */
export class BulkheadFullError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.bulkheadFull, message, options);
  }
}

/**
 * The model server shed load (HTTP 503 or 429: its queue is full or the request expired in
 * it). Not a model error: back off and retry; it does not count against the circuit breaker.
 *
 * @example
 * if (err instanceof ModelOverloadedError) await sleep(err.retryAfterMs ?? 100);
 */
export class ModelOverloadedError extends InferenceError {
  readonly status: number;
  /** The server's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, status: number, retryAfterMs?: number) {
    super(InferenceErrorCodes.overloaded, message, { retryable: true });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A remote model server failed the call (connection refused or reset, HTTP 4xx/5xx other
 * than shed load). `status` is 0 when no HTTP answer came; retryable for lost connections and
 * 502/504, not for 4xx or 500.
 *
 * @example
 * if (err instanceof RemoteModelError && err.status === 404) console.error('wrong model name');
 */
export class RemoteModelError extends InferenceError {
  readonly status: number;

  constructor(message: string, status: number, options?: { cause?: unknown; retryable?: boolean }) {
    super(InferenceErrorCodes.remote, message, options);
    this.status = status;
  }
}

/**
 * A remote model server answered with a body that does not follow its protocol.
 *
 * @example
 * // KServe response has no "outputs" array
 */
export class ProtocolError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.protocol, message, options);
  }
}

/**
 * A worker thread running a model exited or failed; calls in flight on it are rejected (and
 * may be retried: the worker is restarted).
 *
 * @example
 * if (err instanceof WorkerError) console.error(err.cause);
 */
export class WorkerError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.worker, message, { cause: options?.cause, retryable: true });
  }
}

/**
 * A new model version cannot replace the running one: its inputs or outputs differ.
 *
 * @example
 * await swappable.swap(() => OnnxModel.load('v2.onnx')); // rejects when v2 takes 16 features
 */
export class SwapMismatchError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.swapMismatch, message);
  }
}

/**
 * The caller aborted the call through its `AbortSignal`.
 *
 * @example
 * const ac = new AbortController(); ac.abort(); await model.run(inputs, { signal: ac.signal }); // rejects
 */
export class InferenceAbortedError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.aborted, message, options);
  }
}
