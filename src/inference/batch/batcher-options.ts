import { InvalidArgumentError } from '../errors.js';
import { QueueTimeoutError } from '../serving-errors.js';
import type { ModelMetadata } from '../model.js';
import type { Tensor } from '../tensor.js';
import type { AdaptiveBatchingOptions } from './latency-target.js';

/**
 * What happens to a request that waited in the queue longer than its queue timeout:
 * `reject` (with `QueueTimeoutError`) or `fallback` (answered by the batcher's `fallback`).
 *
 * @example
 * const action: TimeoutAction = 'fallback';
 */
export type TimeoutAction = 'reject' | 'fallback';

/**
 * Queue policy of one priority level (Triton's `ModelQueuePolicy`).
 *
 * @example
 * const policy: QueuePolicy = { maxQueueSize: 10_000, queueTimeoutMicros: 50_000, timeoutAction: 'fallback' };
 */
export interface QueuePolicy {
  /** Requests that may wait at this level; more are rejected with `QueueFullError`. Default 65 536. */
  maxQueueSize?: number;
  /** Longest a request may wait before it is dispatched; default none (0). */
  queueTimeoutMicros?: number;
  /** Default `reject`. */
  timeoutAction?: TimeoutAction;
  /** Whether a request's own `queueTimeoutMicros` overrides the level's; default true. */
  allowTimeoutOverride?: boolean;
}

/**
 * Answers a request without the model (queue timeout with action `fallback`): same output
 * names, one row per input row.
 *
 * @example
 * const fallback: BatchFallback = (inputs) => ({ score: float32Tensor(new Float32Array(inputs.features!.dims[0]!), [inputs.features!.dims[0]!, 1]) });
 */
export type BatchFallback = (
  inputs: Record<string, Tensor>,
  reason: Error,
) => Record<string, Tensor> | Promise<Record<string, Tensor>>;

/**
 * Options of {@link DynamicBatcher}, named after Triton's dynamic batcher settings.
 *
 * @example
 * const opts: DynamicBatcherOptions = { maxBatchSize: 256, preferredBatchSizes: [64, 256], maxQueueDelayMicros: 500 };
 */
export interface DynamicBatcherOptions extends QueuePolicy {
  /** Most rows in one model call. A request with more rows runs alone, unsplit. */
  maxBatchSize: number;
  /** Batch sizes dispatched at once, without waiting for the delay, when the queue holds one exactly. */
  preferredBatchSizes?: readonly number[];
  /** Longest the oldest request is held while a batch fills (model idle); default 0: next tick. */
  maxQueueDelayMicros?: number;
  /** Priority levels, 1 = highest; default 1. */
  priorityLevels?: number;
  /** Level of requests that give none; default `priorityLevels` (the lowest). */
  defaultPriority?: number;
  /** Queue policy per level (1-based), overriding the top-level policy fields. */
  priorityQueuePolicy?: Record<number, QueuePolicy>;
  /** Batches running on the model at once (its instance count); default 1. */
  maxInFlightBatches?: number;
  /** Answers timed-out requests when a level's `timeoutAction` is `fallback`. */
  fallback?: BatchFallback;
  /** Whether `close()` closes the wrapped model too; default true. */
  closeModel?: boolean;
  /** Name in stats; default the model's name. */
  name?: string;
  /**
   * Adapt the batch size and queue delay online to hold a p99 latency target: `maxBatchSize`
   * and `maxQueueDelayMicros` become their upper bounds (the delay's default bound is a
   * quarter of the target).
   */
  batching?: AdaptiveBatchingOptions;
}

/** A level's policy with defaults applied; times in milliseconds. */
export interface LevelPolicy {
  maxQueueSize: number;
  timeoutMs: number;
  action: TimeoutAction;
  allowOverride: boolean;
}

/** Options with defaults applied and checked; times in milliseconds. */
export interface ResolvedBatcherOptions {
  maxBatchSize: number;
  preferred: number[];
  delayMs: number;
  levels: LevelPolicy[];
  defaultLevel: number;
  maxInFlight: number;
  fallback: BatchFallback | undefined;
  closeModel: boolean;
  name: string;
  batching: AdaptiveBatchingOptions | undefined;
}

const DEFAULT_MAX_QUEUE_SIZE = 65_536;

/**
 * Checks the options once, at construction, with errors that say what to pass.
 *
 * @example
 * resolveBatcherOptions({ maxBatchSize: 64 }, model.metadata).delayMs; // 0
 */
export function resolveBatcherOptions(o: DynamicBatcherOptions, meta: ModelMetadata): ResolvedBatcherOptions {
  positiveInt('maxBatchSize', o.maxBatchSize);
  const levels = o.priorityLevels ?? 1;
  positiveInt('priorityLevels', levels);
  const defaultPriority = o.defaultPriority ?? levels;
  if (!Number.isInteger(defaultPriority) || defaultPriority < 1 || defaultPriority > levels)
    throw new InvalidArgumentError(`defaultPriority is ${defaultPriority}: pass an integer in 1..${levels}`);
  const maxInFlight = o.maxInFlightBatches ?? 1;
  positiveInt('maxInFlightBatches', maxInFlight);
  const target = o.batching?.targetP99Ms;
  if (o.batching !== undefined && !(typeof target === 'number' && Number.isFinite(target) && target > 0))
    throw new InvalidArgumentError(`batching.targetP99Ms is ${target}: pass a latency in ms > 0`);
  const delay = o.maxQueueDelayMicros ?? (o.batching !== undefined ? o.batching.targetP99Ms * 250 : 0);
  nonNegative('maxQueueDelayMicros', delay);
  const preferred = [...(o.preferredBatchSizes ?? [])].sort((a, b) => b - a);
  for (const p of preferred) {
    positiveInt('preferredBatchSizes[]', p);
    if (p > o.maxBatchSize)
      throw new InvalidArgumentError(`preferred batch size ${p} exceeds maxBatchSize ${o.maxBatchSize}`);
  }
  for (const spec of meta.inputs) {
    const first = spec.dims[0];
    if (spec.anyShape !== true && (spec.dims.length === 0 || (typeof first === 'number' && first >= 0))) {
      throw new InvalidArgumentError(
        `input "${spec.name}" has dims [${spec.dims.join(',')}]: a batched model needs a dynamic first (batch) dim; ` +
          're-export the model with dim 0 symbolic (e.g. "N")',
      );
    }
  }
  const policies: LevelPolicy[] = [];
  for (let level = 1; level <= levels; level++) {
    const p = { ...o, ...(o.priorityQueuePolicy?.[level] ?? {}) };
    const maxQueueSize = p.maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE;
    positiveInt(`maxQueueSize (level ${level})`, maxQueueSize);
    const timeout = p.queueTimeoutMicros ?? 0;
    nonNegative(`queueTimeoutMicros (level ${level})`, timeout);
    const action = p.timeoutAction ?? 'reject';
    if (action !== 'reject' && action !== 'fallback')
      throw new InvalidArgumentError(`timeoutAction is "${String(action)}": pass "reject" or "fallback"`);
    if (action === 'fallback' && o.fallback === undefined)
      throw new InvalidArgumentError(
        `timeoutAction is "fallback" (level ${level}) but no fallback is given: pass { fallback: (inputs) => outputs }`,
      );
    policies.push({
      maxQueueSize,
      timeoutMs: timeout / 1000,
      action,
      allowOverride: p.allowTimeoutOverride ?? true,
    });
  }
  for (const key of Object.keys(o.priorityQueuePolicy ?? {})) {
    const level = Number(key);
    if (!Number.isInteger(level) || level < 1 || level > levels)
      throw new InvalidArgumentError(`priorityQueuePolicy has level ${key}: levels are 1..${levels}`);
  }
  return {
    maxBatchSize: o.maxBatchSize,
    preferred,
    delayMs: delay / 1000,
    levels: policies,
    defaultLevel: defaultPriority - 1,
    maxInFlight,
    fallback: o.fallback,
    closeModel: o.closeModel ?? true,
    name: o.name ?? meta.name,
    batching: o.batching,
  };
}

/**
 * The 0-based level of a request's priority (1 = highest), or the default level.
 *
 * @example
 * levelOf(options, 1); // 0
 */
export function levelOf(o: ResolvedBatcherOptions, priority: number | undefined): number {
  if (priority === undefined) return o.defaultLevel;
  if (!Number.isInteger(priority) || priority < 1 || priority > o.levels.length)
    throw new InvalidArgumentError(`priority is ${priority}: pass an integer in 1..${o.levels.length}`);
  return priority - 1;
}

/**
 * The error of a request that waited past its queue timeout.
 *
 * @example
 * queueTimeoutError('fraud', 0, 12.5).waitedMicros; // 12500
 */
export function queueTimeoutError(batcher: string, level: number, waitedMs: number): QueueTimeoutError {
  const waited = Math.round(waitedMs * 1000);
  return new QueueTimeoutError(
    `request waited ${waited} µs in batcher "${batcher}" at priority ${level + 1}, past its queue timeout: ` +
      'the model is not keeping up; add capacity, raise the timeout, or use timeoutAction "fallback"',
    waited,
  );
}

function positiveInt(label: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${label} is ${v}: pass an integer >= 1`);
}

function nonNegative(label: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${label} is ${v}: pass a number >= 0`);
}
