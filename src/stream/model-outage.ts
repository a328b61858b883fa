// What the infer stage does when its model fails: tell "the model is unavailable now"
// (transient: wait it out) from "this record is bad" (dead-letter it), and wait with backoff.
// The stream layer does not import the inference layer (the library loads it lazily), so the
// errors are told apart by their `code` and `status`, which the inference errors carry.

import { RetryBackoff } from './retry-backoff.js';

/** What `.infer()` does with a batch while its model is unavailable. */
export type OnUnavailable = 'wait' | 'deadLetter' | 'fallback';

export const ON_UNAVAILABLE: readonly OnUnavailable[] = ['wait', 'deadLetter', 'fallback'];

/** Inference error codes that say the model cannot answer now, whatever the input. */
const UNAVAILABLE_CODES = new Set([
  'SLUICE_INFERENCE_TIMEOUT',
  'SLUICE_INFERENCE_CIRCUIT_OPEN',
  'SLUICE_INFERENCE_BULKHEAD_FULL',
  'SLUICE_INFERENCE_OVERLOADED',
  'SLUICE_INFERENCE_QUEUE_FULL',
  'SLUICE_INFERENCE_QUEUE_TIMEOUT',
  'SLUICE_INFERENCE_WORKER',
]);

/** Inference error codes that say the input (one record or more) is what the model refused. */
const BAD_INPUT_CODES = new Set([
  'SLUICE_INFERENCE_INPUT_MISSING',
  'SLUICE_INFERENCE_INPUT_UNKNOWN',
  'SLUICE_INFERENCE_INPUT_TYPE',
  'SLUICE_INFERENCE_INPUT_DIMS',
  'SLUICE_INFERENCE_TENSOR_SIZE',
]);

/** Node's network error codes (plain `fetch` failures carry them as the cause). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const REMOTE = 'SLUICE_INFERENCE_REMOTE';

function codeAndStatus(e: unknown): { code: unknown; status: unknown } {
  const o = e as { code?: unknown; status?: unknown } | null;
  return { code: o?.code, status: o?.status };
}

/**
 * True when the failure says the model cannot answer now (connection refused or reset, a
 * timeout, HTTP 5xx, 408, 429 or 503, an open circuit breaker, a full bulkhead or queue, a
 * crashed worker): the same call may succeed later. Not for 501/505 (the server will never do
 * it) nor for anything that names the input.
 *
 * @example
 * if (isModelUnavailable(err)) await backOff(); else deadLetter(record, err);
 */
export function isModelUnavailable(e: unknown): boolean {
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const { code, status } = codeAndStatus(e);
    if (code === REMOTE && typeof status === 'number')
      return (
        status === 0 ||
        status === 408 ||
        status === 429 ||
        (status >= 500 && status !== 501 && status !== 505)
      );
    if (typeof code === 'string') {
      if (UNAVAILABLE_CODES.has(code) || NETWORK_CODES.has(code)) return true;
      // Any other inference error is decided by its own code, not by what caused it.
      if (code.startsWith('SLUICE_INFERENCE_')) return false;
    }
    e = e.cause;
  }
  return false;
}

/**
 * True when a model server refused the request's content (HTTP 4xx other than 408/429): one bad
 * record does that to its whole batch, so splitting the batch finds the bad ones.
 *
 * @example
 * if (isRefusedByServer(err) && rows > 1) scoreHalves();
 */
export function isRefusedByServer(e: unknown): boolean {
  const { code, status } = codeAndStatus(e);
  return (
    code === REMOTE && typeof status === 'number' && status >= 400 && status < 500 && !isModelUnavailable(e)
  );
}

/**
 * True when the model refused the input it was given: a server's 4xx, or an input error (a
 * tensor of the wrong type or dims, which splitting cannot mend). Such records go to the dead
 * letters under every policy but `fallback`.
 *
 * @example
 * if (isBadInput(err)) deadLetter(record, err);
 */
export function isBadInput(e: unknown): boolean {
  const { code } = codeAndStatus(e);
  return (typeof code === 'string' && BAD_INPUT_CODES.has(code)) || isRefusedByServer(e);
}

/** How long to wait between tries while the model is unavailable. */
export interface WaitBackoff {
  /** First wait, ms; default 100. */
  initialDelayMs?: number;
  /** Longest wait, ms; default 2000. */
  maxDelayMs?: number;
}

/** Returned by {@link waitOut} when the run was asked to stop while the model was unavailable. */
export const STOPPED: unique symbol = Symbol('stopped while the model was unavailable');

/** What {@link waitOut} reports while it waits. */
export interface WaitHooks {
  /** Before each wait, with the failure that caused it. */
  waiting(error: Error): void;
  /** Once the call succeeded after at least one wait. */
  resumed(): void;
}

/**
 * Calls `call` until it resolves or fails with something other than unavailability, waiting
 * with exponential backoff (and jitter, so stages do not retry in step) while it reports the
 * model unavailable. Resolves `STOPPED` when `stop` fires while it waits; from the first wait
 * on, `stop` is passed to the call, so a stop also cancels a call that hangs. With `failed`, the
 * caller already made the first call (its fast path) and it failed with `failed.error`.
 *
 * @example
 * const out = await waitOut((signal) => model.run(feeds, { signal }), ctx.stopping, {}, hooks);
 * if (out === STOPPED) return; // the batch stays unfinished: nothing after it is checkpointed
 */
export async function waitOut<R>(
  call: (signal: AbortSignal | undefined) => Promise<R>,
  stop: AbortSignal | undefined,
  backoff: WaitBackoff,
  hooks: WaitHooks,
  failed?: { error: unknown },
): Promise<R | typeof STOPPED> {
  const pause = new RetryBackoff(backoff.initialDelayMs ?? 100, backoff.maxDelayMs ?? 2000);
  let waited = false;
  // `failed`: the caller made the first call itself (its fast path) and it failed with this
  let first = failed;
  for (;;) {
    try {
      if (first !== undefined) {
        const e = first.error;
        first = undefined;
        throw e;
      }
      const out = await call(waited ? stop : undefined);
      if (waited) hooks.resumed();
      return out;
    } catch (e) {
      if (stop?.aborted === true) return STOPPED;
      if (!isModelUnavailable(e)) throw e;
      hooks.waiting(e as Error);
      waited = true;
      if (!(await pause.wait(stop))) return STOPPED;
    }
  }
}
