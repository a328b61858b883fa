import type { Tensor, TensorType } from './tensor.js';

/**
 * Declared name, element type and dims of a model input or output. A dim that is `-1` or a
 * string (a symbolic name such as `'N'`) is dynamic; inputs sharing a name must agree on its size.
 *
 * @example
 * const spec: TensorSpec = { name: 'features', type: 'float32', dims: ['N', 15] };
 */
export interface TensorSpec {
  name: string;
  type: TensorType;
  dims: (number | string)[];
  /** True when the model declares no shape at all: any dims are accepted (`dims` is then `[]`). */
  anyShape?: boolean;
}

/**
 * What a model is and what it takes and gives.
 *
 * @example
 * const meta: ModelMetadata = { name: 'fraud', version: '3', inputs: [...], outputs: [...] };
 */
export interface ModelMetadata {
  name: string;
  version: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * Per-call options every runner accepts (runners ignore what does not apply to them).
 *
 * @example
 * await model.run(inputs, { signal: AbortSignal.timeout(50), priority: 1, key: 'card-42' });
 */
export interface ModelRunOptions {
  /** Aborts the call: remote runners cancel the HTTP request; queued batcher requests leave the queue. */
  signal?: AbortSignal;
  /** Batcher priority level, 1 = highest; default the batcher's `defaultPriority`. */
  priority?: number;
  /** Batcher queue timeout for this request, overriding the level's (when allowed). */
  queueTimeoutMicros?: number;
  /** Results of requests with the same key come back in the order the requests were made. */
  key?: string | number;
  /** Whether this call may be retried; default the model's `idempotent` (true when absent). */
  idempotent?: boolean;
  /**
   * Narrows which failures of this call a resilience fallback answers (both it and the model's
   * `fallbackOn` must allow it): the infer stage keeps outages from the fallback unless its
   * `onUnavailable` is `fallback`. Wrappers that merge calls (the batcher) do not pass it on.
   */
  fallbackOn?: (error: Error) => boolean;
  /**
   * The outputs the caller reads. A hint: a runner may leave the others out of its answer (the
   * batcher splits only these back to the request, which saves a view per output per request);
   * one that ignores it answers with all of them.
   */
  outputs?: readonly string[];
}

/**
 * A model runner: feeds named tensors in, gets named tensors out. Implemented by in-process
 * runtimes (ONNX Runtime, in-process or in worker threads), remote model servers (KServe v2,
 * OpenAI-compatible), and the wrappers that compose them (batcher, resilience, hot swap).
 *
 * @example
 * const out = await model.run({ features: float32Tensor(rows, [n, 15]) });
 * const scores = out.score.data as Float32Array;
 * await model.close();
 */
export interface Model {
  readonly metadata: ModelMetadata;
  /**
   * False when a call has effects or costs that forbid repeating it (e.g. a sampled chat
   * completion): resilience then never retries it. Absent means idempotent.
   */
  readonly idempotent?: boolean;
  /** Runs one batch. Rejects with a `ModelInputError` naming the mismatch when inputs do not fit the metadata. */
  run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>>;
  /** Releases the model's resources; `run()` afterwards rejects. Calling it twice is harmless. */
  close(): Promise<void>;
}

/**
 * What a pipeline will feed a model, checked once at start-up by `checkInputs`.
 *
 * @example
 * const plan: InputPlan = { name: 'features', dims: [-1, 15] };
 */
export interface InputPlan {
  name: string;
  dims: (number | string)[];
  type?: TensorType;
}
