import {
  bulkhead as cockatielBulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  CountBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  fullJitterGenerator,
  handleWhen,
  noJitterGenerator,
  retry as cockatielRetry,
  SamplingBreaker,
  timeout as cockatielTimeout,
  TimeoutStrategy,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IBreaker,
  type IRetryBackoffContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { InvalidArgumentError } from '../errors.js';
import { ModelOverloadedError } from '../serving-errors.js';
import type { InferenceMetrics } from '../metrics.js';
import type { ResilienceFallback } from './fallback.js';

/**
 * Retry with exponential backoff and jitter; only idempotent calls, only retryable errors.
 *
 * @example
 * const retry: InferenceRetryOptions = { maxRetries: 3, initialDelayMs: 20, maxDelayMs: 500, jitter: 'decorrelated' };
 */
export interface InferenceRetryOptions {
  /** Retries after the first attempt; default 3. */
  maxRetries?: number;
  /** First backoff, ms; default 50. */
  initialDelayMs?: number;
  /** Largest backoff, ms; default 2000. */
  maxDelayMs?: number;
  /** Default `decorrelated` (AWS's "decorrelated jitter"); `full` is uniform in [0, exp]. */
  jitter?: 'decorrelated' | 'full' | 'none';
  /** Which errors to retry; default those whose `retryable` is true (timeouts, shed load, lost connections). */
  retryOn?: (error: Error) => boolean;
}

/**
 * Circuit breaker: `consecutive` opens after N failures in a row; `ratio` opens when the
 * failed share of the last `windowSize` calls (or of the last `windowMs`) passes
 * `threshold`. After `halfOpenAfterMs` one probe call is let through: success closes it,
 * failure opens it again.
 *
 * @example
 * const a: InferenceBreakerOptions = { kind: 'consecutive', failures: 5, halfOpenAfterMs: 1000 };
 * const b: InferenceBreakerOptions = { kind: 'ratio', threshold: 0.5, windowSize: 100, minimumCalls: 20, halfOpenAfterMs: 1000 };
 */
export type InferenceBreakerOptions =
  | { kind: 'consecutive'; failures: number; halfOpenAfterMs: number }
  | {
      kind: 'ratio';
      threshold: number;
      /** Count window (last N calls); give this or `windowMs`. */
      windowSize?: number;
      /** Time window; give this or `windowSize`. */
      windowMs?: number;
      /** Calls (count window) or calls per second (time window) below which it never opens. */
      minimumCalls?: number;
      halfOpenAfterMs: number;
    };

/**
 * Options of {@link withResilience}.
 *
 * @example
 * const opts: ModelResilienceOptions = {
 *   timeoutMs: 50, retry: { maxRetries: 2 }, breaker: { kind: 'consecutive', failures: 5, halfOpenAfterMs: 2000 },
 *   bulkhead: { maxInFlight: 8 }, fallback: { value: { score: 0 } },
 * };
 */
export interface ModelResilienceOptions {
  /** Name in stats and metrics; default the model's name. */
  name?: string;
  /** Per attempt; the attempt's AbortSignal fires (remote runners cancel the request). */
  timeoutMs?: number;
  retry?: InferenceRetryOptions;
  breaker?: InferenceBreakerOptions;
  /** Calls running at once (`maxInFlight`) and waiting for a slot (`maxQueued`, default 0). */
  bulkhead?: { maxInFlight: number; maxQueued?: number };
  fallback?: ResilienceFallback;
  /** Which errors fall back; default all but input errors and caller aborts. */
  fallbackOn?: (error: Error) => boolean;
  /** Which errors count against the breaker; default all but input errors, aborts and shed load (503). */
  breakerCountsOn?: (error: Error) => boolean;
  /** Registers this model's stats as `resilience.<name>`. */
  metrics?: InferenceMetrics;
}

/** The cockatiel policies built from the options (absent ones are undefined). */
export interface Policies {
  timeout: TimeoutPolicy | undefined;
  retry: RetryPolicy | undefined;
  breaker: CircuitBreakerPolicy | undefined;
  bulkhead: BulkheadPolicy | undefined;
}

/**
 * Builds cockatiel policies from checked options.
 *
 * @example
 * const p = buildPolicies({ timeoutMs: 50 }, (e) => true, (e) => true);
 */
export function buildPolicies(
  o: ModelResilienceOptions,
  retryable: (e: Error) => boolean,
  countsAgainstBreaker: (e: Error) => boolean,
): Policies {
  let timeout: TimeoutPolicy | undefined;
  if (o.timeoutMs !== undefined) {
    positive('timeoutMs', o.timeoutMs);
    timeout = cockatielTimeout(o.timeoutMs, TimeoutStrategy.Aggressive);
  }
  let retry: RetryPolicy | undefined;
  if (o.retry !== undefined) {
    const r = o.retry;
    const maxRetries = r.maxRetries ?? 3;
    if (!Number.isInteger(maxRetries) || maxRetries < 0)
      throw new InvalidArgumentError(`retry.maxRetries is ${maxRetries}: pass an integer >= 0`);
    const initialDelay = r.initialDelayMs ?? 50;
    const maxDelay = r.maxDelayMs ?? 2000;
    positive('retry.initialDelayMs', initialDelay);
    if (maxDelay < initialDelay)
      throw new InvalidArgumentError(
        `retry.maxDelayMs (${maxDelay}) is below initialDelayMs (${initialDelay})`,
      );
    const jitter = r.jitter ?? 'decorrelated';
    const generator =
      jitter === 'decorrelated'
        ? decorrelatedJitterGenerator
        : jitter === 'full'
          ? fullJitterGenerator
          : jitter === 'none'
            ? noJitterGenerator
            : undefined;
    if (generator === undefined)
      throw new InvalidArgumentError(`retry.jitter is "${String(jitter)}": pass decorrelated, full or none`);
    const exponential = new ExponentialBackoff({ initialDelay, maxDelay, generator: generator as never });
    const backoff = honorRetryAfter(exponential, maxDelay);
    retry = cockatielRetry(handleWhen(r.retryOn ?? retryable), { maxAttempts: maxRetries, backoff });
  }
  let breaker: CircuitBreakerPolicy | undefined;
  if (o.breaker !== undefined) {
    const b = o.breaker;
    positive('breaker.halfOpenAfterMs', b.halfOpenAfterMs);
    breaker = circuitBreaker(handleWhen(countsAgainstBreaker), {
      halfOpenAfter: b.halfOpenAfterMs,
      breaker: makeBreaker(b),
    });
  }
  let bulkhead: BulkheadPolicy | undefined;
  if (o.bulkhead !== undefined) {
    const { maxInFlight, maxQueued = 0 } = o.bulkhead;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new InvalidArgumentError(`bulkhead.maxInFlight is ${maxInFlight}: pass an integer >= 1`);
    if (!Number.isInteger(maxQueued) || maxQueued < 0)
      throw new InvalidArgumentError(`bulkhead.maxQueued is ${maxQueued}: pass an integer >= 0`);
    bulkhead = cockatielBulkhead(maxInFlight, maxQueued);
  }
  return { timeout, retry, breaker, bulkhead };
}

type BackoffContext = IRetryBackoffContext<unknown>;

/**
 * Waits at least a shedding server's `Retry-After` (capped at `maxDelay`), else the
 * exponential backoff's own delay.
 */
function honorRetryAfter(
  inner: IBackoffFactory<BackoffContext>,
  maxDelay: number,
): IBackoffFactory<BackoffContext> {
  const wrap = (b: IBackoff<BackoffContext>, ctx: BackoffContext): IBackoff<BackoffContext> => {
    const error = 'error' in ctx.result ? ctx.result.error : undefined;
    const after = error instanceof ModelOverloadedError ? (error.retryAfterMs ?? 0) : 0;
    return { duration: Math.max(b.duration, Math.min(after, maxDelay)), next: (c) => wrap(b.next(c), c) };
  };
  return { next: (ctx) => wrap(inner.next(ctx), ctx) };
}

function makeBreaker(b: InferenceBreakerOptions): IBreaker {
  if (b.kind === 'consecutive') {
    if (!Number.isInteger(b.failures) || b.failures < 1)
      throw new InvalidArgumentError(`breaker.failures is ${b.failures}: pass an integer >= 1`);
    return new ConsecutiveBreaker(b.failures);
  }
  if (b.kind !== 'ratio')
    throw new InvalidArgumentError(
      `breaker.kind is "${String((b as { kind: unknown }).kind)}": pass consecutive or ratio`,
    );
  if (!(b.threshold > 0 && b.threshold <= 1))
    throw new InvalidArgumentError(`breaker.threshold is ${b.threshold}: pass a share in (0, 1]`);
  if ((b.windowSize === undefined) === (b.windowMs === undefined))
    throw new InvalidArgumentError(
      'a ratio breaker needs exactly one of windowSize (calls) or windowMs (time)',
    );
  if (b.windowSize !== undefined) {
    if (!Number.isInteger(b.windowSize) || b.windowSize < 1)
      throw new InvalidArgumentError(`breaker.windowSize is ${b.windowSize}: pass an integer >= 1`);
    return new CountBreaker({
      threshold: b.threshold,
      size: b.windowSize,
      minimumNumberOfCalls: b.minimumCalls,
    });
  }
  positive('breaker.windowMs', b.windowMs!);
  return new SamplingBreaker({ threshold: b.threshold, duration: b.windowMs!, minimumRps: b.minimumCalls });
}

function positive(label: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(`${label} is ${v}: pass a number > 0`);
}
