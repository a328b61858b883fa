import { BrokenCircuitError, BulkheadRejectedError, CircuitState, TaskCancelledError } from 'cockatiel';
import {
  InferenceError,
  InvalidArgumentError,
  ModelClosedError,
  ModelInputError,
  TensorSizeError,
} from '../errors.js';
import {
  BulkheadFullError,
  CircuitOpenError,
  InferenceAbortedError,
  InferenceTimeoutError,
  ModelOverloadedError,
} from '../serving-errors.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { Tensor } from '../tensor.js';
import { fallbackFunction } from './fallback.js';
import { buildPolicies, type ModelResilienceOptions, type Policies } from './resilience-options.js';

type Outputs = Record<string, Tensor>;
type Attempt = (signal: AbortSignal | undefined) => Promise<Outputs>;

/**
 * A snapshot of a {@link ResilientModel}'s counters and gauges.
 *
 * @example
 * const { circuit, retries, timeouts, fallbacks } = model.stats();
 */
export interface ModelResilienceStats {
  name: string;
  calls: number;
  successes: number;
  /** Calls whose primary path failed (fallen back or not). */
  failures: number;
  retries: number;
  timeouts: number;
  fallbacks: number;
  fallbackFailures: number;
  /** Attempts answered with shed load (503/429). */
  shed: number;
  bulkheadRejections: number;
  /** Calls refused because the circuit was open (or a half-open probe was running). */
  breakerRejections: number;
  breakerOpens: number;
  breakerHalfOpens: number;
  breakerCloses: number;
  /** Gauge: `none` without a breaker. */
  circuit: 'closed' | 'open' | 'half-open' | 'isolated' | 'none';
  /** Gauge: calls running now. */
  inFlight: number;
}

const NOT_MODEL_FAILURES = [
  ModelInputError,
  TensorSizeError,
  InvalidArgumentError,
  InferenceAbortedError,
  ModelClosedError,
];
const isRetryable = (e: Error): boolean => e instanceof InferenceError && e.retryable;
const countsAgainstBreaker = (e: Error): boolean =>
  !(e instanceof ModelOverloadedError) && !NOT_MODEL_FAILURES.some((c) => e instanceof c);
const fallsBack = (e: Error): boolean =>
  !(e instanceof ModelInputError || e instanceof TensorSizeError || e instanceof InferenceAbortedError);
const CIRCUIT_NAMES = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
} as const;

/**
 * A model wrapped in cockatiel policies, outermost first: bulkhead (max in flight), retry
 * (exponential backoff with jitter; idempotent calls and retryable errors only), circuit
 * breaker (closed → open → half-open probe), timeout per attempt (its AbortSignal cancels
 * remote requests; a late answer of a timed-out attempt is dropped, never delivered), then
 * the fallback. Every step is counted in `stats()`.
 *
 * @example
 * const model = withResilience(await KServeModel.connect({ url, model: 'fraud' }), {
 *   timeoutMs: 50, retry: { maxRetries: 2 }, breaker: { kind: 'consecutive', failures: 5, halfOpenAfterMs: 1000 },
 *   bulkhead: { maxInFlight: 16 }, fallback: { value: { score: 0 } },
 * });
 */
export class ResilientModel implements Model {
  readonly metadata: ModelMetadata;
  readonly idempotent: boolean | undefined;
  readonly #model: Model;
  readonly #name: string;
  readonly #policies: Policies;
  readonly #fallback: ReturnType<typeof fallbackFunction> | undefined;
  readonly #fallbackOn: (e: Error) => boolean;
  readonly #timeoutMs: number;
  readonly #s: Omit<ModelResilienceStats, 'name' | 'circuit'>;

  constructor(model: Model, options: ModelResilienceOptions = {}) {
    this.#model = model;
    this.metadata = model.metadata;
    this.idempotent = model.idempotent;
    this.#name = options.name ?? model.metadata.name;
    this.#policies = buildPolicies(options, isRetryable, options.breakerCountsOn ?? countsAgainstBreaker);
    this.#fallback =
      options.fallback === undefined ? undefined : fallbackFunction(options.fallback, model.metadata);
    this.#fallbackOn = options.fallbackOn ?? fallsBack;
    this.#timeoutMs = options.timeoutMs ?? 0;
    const s = (this.#s = {
      calls: 0,
      successes: 0,
      failures: 0,
      retries: 0,
      timeouts: 0,
      fallbacks: 0,
      fallbackFailures: 0,
      shed: 0,
      bulkheadRejections: 0,
      breakerRejections: 0,
      breakerOpens: 0,
      breakerHalfOpens: 0,
      breakerCloses: 0,
      inFlight: 0,
    });
    const p = this.#policies;
    p.retry?.onRetry(() => s.retries++);
    p.timeout?.onTimeout(() => s.timeouts++);
    p.bulkhead?.onReject(() => s.bulkheadRejections++);
    p.breaker?.onBreak(() => s.breakerOpens++);
    p.breaker?.onHalfOpen(() => s.breakerHalfOpens++);
    p.breaker?.onReset(() => s.breakerCloses++);
    options.metrics?.register(`resilience.${this.#name}`, this);
  }

  /**
   * Runs the wrapped model through the policies; resolves with its outputs or the fallback's,
   * rejects with the last error mapped to an inference error (`InferenceTimeoutError`,
   * `CircuitOpenError`, `BulkheadFullError`, or the model's own).
   *
   * @example
   * const { score } = await model.run({ features }, { idempotent: true });
   */
  async run(inputs: Outputs, options?: ModelRunOptions): Promise<Outputs> {
    const s = this.#s;
    s.calls++;
    s.inFlight++;
    try {
      const idempotent = options?.idempotent ?? this.#model.idempotent ?? true;
      const out = await this.#chain(inputs, options, idempotent)(options?.signal);
      s.successes++;
      return out;
    } catch (raw) {
      const err = this.#map(raw, options?.signal);
      s.failures++;
      const callAllows = options?.fallbackOn?.(err) ?? true;
      if (this.#fallback === undefined || !this.#fallbackOn(err) || !callAllows) throw err;
      s.fallbacks++;
      try {
        return await this.#fallback(inputs, err, options);
      } catch (fallbackError) {
        s.fallbackFailures++;
        throw fallbackError;
      }
    } finally {
      s.inFlight--;
    }
  }

  /**
   * Counters and gauges now: calls, retries, timeouts, fallbacks, circuit state...
   *
   * @example
   * if (model.stats().circuit === 'open') console.warn('model server unreachable');
   */
  stats(): ModelResilienceStats {
    const state = this.#policies.breaker?.state;
    return { name: this.#name, circuit: state === undefined ? 'none' : CIRCUIT_NAMES[state], ...this.#s };
  }

  /**
   * Holds the circuit open by hand (e.g. during a model server deploy) until `dispose()`.
   *
   * @example
   * const hold = model.isolate(); await deploy(); hold.dispose();
   */
  isolate(): { dispose(): void } {
    if (this.#policies.breaker === undefined)
      throw new InvalidArgumentError('isolate() needs a circuit breaker: pass { breaker } to withResilience');
    return this.#policies.breaker.isolate();
  }

  /**
   * Closes the wrapped model (not a fallback model, which the caller owns).
   *
   * @example
   * await model.close();
   */
  close(): Promise<void> {
    return this.#model.close();
  }

  /** bulkhead → retry → breaker → timeout → model, each step given the signal of the one around it. */
  #chain(inputs: Outputs, options: ModelRunOptions | undefined, idempotent: boolean): Attempt {
    const { timeout, retry, breaker, bulkhead } = this.#policies;
    let step: Attempt = (signal) =>
      this.#model.run(inputs, { ...options, signal }).catch((e: unknown) => {
        if (e instanceof ModelOverloadedError) this.#s.shed++;
        throw e;
      });
    if (timeout !== undefined) {
      const inner = step;
      step = (signal) =>
        timeout
          .execute((ctx) => inner(ctx.signal), signal)
          .catch((e: unknown) => {
            if (!(e instanceof TaskCancelledError) || signal?.aborted === true) throw e;
            throw new InferenceTimeoutError(
              `model "${this.metadata.name}" did not answer within ${this.#timeoutMs} ms: the attempt was aborted`,
              this.#timeoutMs,
              { cause: e },
            );
          });
    }
    if (breaker !== undefined) {
      const inner = step;
      step = (signal) => breaker.execute((ctx) => inner(ctx.signal), signal);
    }
    if (retry !== undefined && idempotent) {
      const inner = step;
      step = (signal) => retry.execute((ctx) => inner(ctx.signal), signal);
    }
    if (bulkhead !== undefined) {
      const inner = step;
      step = (signal) => bulkhead.execute((ctx) => inner(ctx.signal), signal);
    }
    return step;
  }

  #map(raw: unknown, signal: AbortSignal | undefined): Error {
    const name = this.metadata.name;
    if (signal?.aborted === true && !(raw instanceof InferenceAbortedError))
      return new InferenceAbortedError(`the call to model "${name}" was aborted`, { cause: raw });
    if (raw instanceof BrokenCircuitError) {
      this.#s.breakerRejections++;
      return new CircuitOpenError(
        `the circuit of model "${name}" is open after repeated failures; calls resume after a successful probe`,
        { cause: raw },
      );
    }
    if (raw instanceof BulkheadRejectedError)
      return new BulkheadFullError(
        `model "${name}" already runs its bulkhead's maximum of calls (and its queue is full): shed or slow down`,
        { cause: raw },
      );
    if (raw instanceof TaskCancelledError)
      return new InferenceAbortedError(`the call to model "${name}" was cancelled`, { cause: raw });
    return raw instanceof Error ? raw : new Error(String(raw));
  }
}

/**
 * Wraps any model (usually a remote one) in timeout, retry, circuit breaker, bulkhead and
 * fallback policies built on cockatiel; see {@link ResilientModel}.
 *
 * @example
 * const scorer = batchedModel(withResilience(remote, { timeoutMs: 100, fallback: { model: local } }), { maxBatchSize: 64 });
 */
export function withResilience(model: Model, options: ModelResilienceOptions = {}): ResilientModel {
  return new ResilientModel(model, options);
}
