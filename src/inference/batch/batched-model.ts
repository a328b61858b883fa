import type { Model } from '../model.js';
import type { DynamicBatcherOptions } from './batcher-options.js';
import { DynamicBatcher } from './dynamic-batcher.js';

/**
 * Wraps a model in a {@link DynamicBatcher}: the result is still a `Model` (and a pipeline
 * `ModelLike`), so many concurrent callers — or several pipelines — share its batches. A
 * pipeline's own one-call-per-batch requests pass through as single requests, alone in a
 * batch when larger than `maxBatchSize`.
 *
 * @example
 * const scorer = batchedModel(await OnnxModel.load('fraud.onnx'), { maxBatchSize: 512, maxQueueDelayMicros: 1000 });
 * pipeline('fraud').from(source).infer(scorer, { width: 15, input, output });
 */
export function batchedModel(model: Model, options: DynamicBatcherOptions): DynamicBatcher {
  return new DynamicBatcher(model, options);
}
