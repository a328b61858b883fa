// Client-side flow control for a rate-limited API (OpenAI-compatible servers): request and token
// budgets per minute (token buckets), a pause until the server's `Retry-After`, and adaptive
// concurrency (AIMD: one more request in flight after a window of successes, half as many on
// 429/503). Requests are granted in arrival order, so a large request is not starved by small ones.
import { InvalidArgumentError } from '../errors.js';
import { InferenceAbortedError } from '../serving-errors.js';

/**
 * Budgets of an API account or deployment.
 *
 * @example
 * const limits: RequestLimits = { requestsPerMinute: 500, tokensPerMinute: 200_000 };
 */
export interface RequestLimits {
  /** Requests started per minute, at most. */
  requestsPerMinute?: number;
  /** Tokens (prompt + completion, as the server's `usage` counts them) per minute, at most. */
  tokensPerMinute?: number;
  /**
   * How much of a budget may be spent at once after an idle spell, in seconds of budget;
   * default 1 (a 600 RPM budget lets 10 requests go together, then one per 100 ms).
   */
  burstSeconds?: number;
}

/**
 * What {@link RequestLimiter.stats} reports.
 *
 * @example
 * const { concurrency, inFlight, throttled } = limiter.stats();
 */
export interface RequestLimiterStats {
  /** Requests allowed in flight now (the AIMD window). */
  concurrency: number;
  inFlight: number;
  /** Requests waiting for a slot or a budget. */
  waiting: number;
  /** Times the server said 429/503 (each halves the window). */
  throttled: number;
}

/** One granted request: report how it went with `done`. */
export interface Permit {
  /**
   * `tokens`: what the request really used (corrects the estimate); `overloaded`: a 429/503
   * (halves the window); `failed`: another failure (neither grows nor shrinks it).
   */
  done(outcome: { tokens?: number; overloaded?: boolean; failed?: boolean; retryAfterMs?: number }): void;
}

/** A budget refilled continuously at `perMinute`, holding at most `capacity`. */
class Bucket {
  level: number;
  #at: number;
  constructor(
    readonly perMinute: number,
    readonly capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.#at = now;
  }
  refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + ((now - this.#at) * this.perMinute) / 60_000);
    this.#at = now;
  }
  /** Ms until `need` is available (a need above capacity waits for a full bucket, then overdraws). */
  waitFor(need: number): number {
    const want = Math.min(need, this.capacity);
    return this.level >= want ? 0 : ((want - this.level) * 60_000) / this.perMinute;
  }
}

interface Waiter {
  tokens: number;
  grant: (p: Permit) => void;
  fail: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * Grants requests within the budgets, the `Retry-After` pause and the AIMD window.
 *
 * @example
 * const limiter = new RequestLimiter({ requestsPerMinute: 60 }, { maxConcurrency: 8 });
 * const permit = await limiter.acquire(estimatedTokens, signal);
 * try { const res = await send(); permit.done({ tokens: res.usage.total_tokens }); }
 * catch (e) { permit.done({ overloaded: e instanceof ModelOverloadedError }); throw e; }
 */
export class RequestLimiter {
  readonly #requests: Bucket | undefined;
  readonly #tokens: Bucket | undefined;
  readonly #max: number;
  #window: number;
  #successes = 0;
  #inFlight = 0;
  #throttled = 0;
  #blockedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #queue: Waiter[] = [];

  constructor(limits: RequestLimits | undefined, o: { maxConcurrency: number; initialConcurrency?: number }) {
    const now = Date.now();
    const burst = limits?.burstSeconds ?? 1;
    if (!(burst > 0)) throw new InvalidArgumentError(`limits.burstSeconds is ${burst}: pass a number > 0`);
    const bucket = (name: string, perMinute: number | undefined): Bucket | undefined => {
      if (perMinute === undefined) return undefined;
      if (!(perMinute > 0))
        throw new InvalidArgumentError(`limits.${name} is ${perMinute}: pass a number > 0`);
      return new Bucket(perMinute, Math.max(1, (perMinute * burst) / 60), now);
    };
    this.#requests = bucket('requestsPerMinute', limits?.requestsPerMinute);
    this.#tokens = bucket('tokensPerMinute', limits?.tokensPerMinute);
    this.#max = o.maxConcurrency;
    this.#window = Math.min(this.#max, o.initialConcurrency ?? Math.max(1, Math.ceil(this.#max / 2)));
  }

  /**
   * Waits for a slot within the budgets (`tokens`: the request's estimated token cost).
   * Rejects with `InferenceAbortedError` when `signal` aborts first.
   *
   * @example
   * const permit = await limiter.acquire(120, signal);
   */
  acquire(tokens: number, signal?: AbortSignal): Promise<Permit> {
    return new Promise<Permit>((grant, fail) => {
      if (signal?.aborted === true) return fail(aborted(signal));
      const w: Waiter = { tokens, grant, fail, signal, onAbort: () => {} };
      w.onAbort = () => {
        const i = this.#queue.indexOf(w);
        if (i >= 0) this.#queue.splice(i, 1);
        fail(aborted(signal!));
        this.#pump();
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.#queue.push(w);
      this.#pump();
    });
  }

  /**
   * Pauses every request until `ms` from now (a server's `Retry-After`), without touching the window.
   *
   * @example
   * limiter.pause(2000);
   */
  pause(ms: number): void {
    this.#blockedUntil = Math.max(this.#blockedUntil, Date.now() + ms);
    this.#pump();
  }

  /**
   * The window, requests in flight and waiting, and how often the server throttled.
   *
   * @example
   * console.log(limiter.stats().concurrency);
   */
  stats(): RequestLimiterStats {
    return {
      concurrency: this.#window,
      inFlight: this.#inFlight,
      waiting: this.#queue.length,
      throttled: this.#throttled,
    };
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (;;) {
      const head = this.#queue[0];
      if (head === undefined || this.#inFlight >= this.#window) return;
      const now = Date.now();
      this.#requests?.refill(now);
      this.#tokens?.refill(now);
      const wait = Math.max(
        this.#blockedUntil - now,
        this.#requests?.waitFor(1) ?? 0,
        this.#tokens?.waitFor(head.tokens) ?? 0,
      );
      if (wait > 0) {
        this.#timer = setTimeout(() => this.#pump(), Math.ceil(wait));
        return;
      }
      this.#queue.shift();
      head.signal?.removeEventListener('abort', head.onAbort);
      if (this.#requests) this.#requests.level -= 1;
      if (this.#tokens) this.#tokens.level -= head.tokens;
      this.#inFlight++;
      head.grant(this.#permit(head.tokens));
    }
  }

  #permit(estimate: number): Permit {
    let finished = false;
    return {
      done: (outcome) => {
        if (finished) return;
        finished = true;
        this.#inFlight--;
        // The estimate was charged up front; charge (or give back) the difference.
        if (this.#tokens && outcome.tokens !== undefined) this.#tokens.level -= outcome.tokens - estimate;
        if (outcome.overloaded === true) {
          this.#throttled++;
          this.#successes = 0;
          this.#window = Math.max(1, Math.floor(this.#window / 2));
          if (outcome.retryAfterMs !== undefined) this.pause(outcome.retryAfterMs);
        } else if (outcome.failed !== true && ++this.#successes >= this.#window) {
          this.#successes = 0;
          this.#window = Math.min(this.#max, this.#window + 1);
        }
        this.#pump();
      },
    };
  }
}

function aborted(signal: AbortSignal): Error {
  return new InferenceAbortedError('the request was aborted while waiting for its rate limit', {
    cause: signal.reason,
  });
}
