/**
 * `sluice/inference`: models behind one `Model` interface (ONNX in-process or in worker threads,
 * KServe, OpenAI), the dynamic batcher, resilience (timeout, retry, breaker, bulkhead, fallback),
 * hot swap, tensors and every inference error class. Training and ONNX export: `sluice/train`.
 *
 * @example
 * import { OnnxModel, float32Tensor, withResilience, QueueFullError } from 'sluice/inference';
 * const model = withResilience(await OnnxModel.load('model.onnx'), { timeoutMs: 50 });
 * try { await model.run({ features: float32Tensor(rows, [n, 15]) }); } catch (e) { if (e instanceof QueueFullError) slowDown(); }
 */
export {
  InferenceError,
  InferenceErrorCodes,
  InvalidArgumentError,
  ModelClosedError,
  ModelInputError,
  ModelLoadError,
  ModelRunError,
  TensorSizeError,
  UnsupportedTensorTypeError,
  type InferenceErrorCode,
} from './errors.js';
export {
  BatchOutputError,
  BulkheadFullError,
  CircuitOpenError,
  InferenceAbortedError,
  InferenceTimeoutError,
  ModelOverloadedError,
  ProtocolError,
  QueueFullError,
  QueueTimeoutError,
  RemoteModelError,
  SwapMismatchError,
  WorkerError,
} from './serving-errors.js';
export { DynamicBatcher } from './batch/dynamic-batcher.js';
export { batchedModel } from './batch/batched-model.js';
export type {
  BatchFallback,
  DynamicBatcherOptions,
  QueuePolicy,
  TimeoutAction,
} from './batch/batcher-options.js';
export type { BatchCloseReason, DynamicBatcherStats } from './batch/batcher-stats.js';
export {
  LatencyTargetController,
  type AdaptiveBatchingOptions,
  type AdaptiveBatchingStats,
} from './batch/latency-target.js';
export { MicrosHistogram, type MicrosSummary } from './micros-histogram.js';
export { InferenceMetrics, type StatsSource } from './metrics.js';
export { ResilientModel, withResilience, type ModelResilienceStats } from './resilience/resilient-model.js';
export type {
  InferenceBreakerOptions,
  InferenceRetryOptions,
  ModelResilienceOptions,
} from './resilience/resilience-options.js';
export type { ResilienceFallback } from './resilience/fallback.js';
export { KServeModel, type KServeModelOptions } from './runners/kserve-model.js';
export { OpenAIModel, type OpenAIModelOptions, type OpenAIModelStats } from './runners/openai-model.js';
export { parseClassification, type Classification } from './runners/openai-parse.js';
export type { StructuredOutput } from './runners/openai-chat.js';
export type { RequestLimits, RequestLimiterStats } from './runners/request-limiter.js';
export { ROW_ERRORS } from '../core/row-errors.js';
export { SwappableModel, type ModelSource, type SwappableModelStats } from './swap/swappable-model.js';
export type { ShadowOptions, ShadowStats } from './swap/shadow-compare.js';
export type { InputPlan, Model, ModelMetadata, ModelRunOptions, TensorSpec } from './model.js';
export { OnnxModel, type OnnxModelOptions } from './onnx-model.js';
export { OnnxWorkerModel, type OnnxWorkerModelOptions } from './runners/onnx-worker-model.js';
export { assertTensorSize, elementCount, float32Tensor, int64Tensor, TENSOR_TYPES } from './tensor.js';
export type { Tensor, TensorData, TensorType } from './tensor.js';
export { checkInputPlan, formatDims, isDynamicDim, validateInputs } from './validate.js';
