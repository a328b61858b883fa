import { requireOption } from '../stream/index.js';

/** Exponential backoff with jitter, as the webhook and alert sinks retry. */
export interface BackoffOptions {
  /** Attempts after the first one. Default 5. */
  retries?: number;
  /** Delay before the first retry. Default 100 ms. */
  initialDelayMs?: number;
  /** Longest delay between attempts. Default 5000 ms. */
  maxDelayMs?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export function resolveBackoff(o: BackoffOptions = {}, who = 'backoff'): ResolvedBackoff {
  const r = {
    retries: o.retries ?? 5,
    initialDelayMs: o.initialDelayMs ?? 100,
    maxDelayMs: o.maxDelayMs ?? 5000,
  };
  requireOption(
    Number.isInteger(r.retries) && r.retries >= 0,
    `${who}: retries must be an integer >= 0, got ${r.retries}`,
  );
  requireOption(r.initialDelayMs > 0, `${who}: initialDelayMs must be > 0, got ${r.initialDelayMs}`);
  requireOption(r.maxDelayMs >= r.initialDelayMs, `${who}: maxDelayMs must be >= initialDelayMs`);
  return r;
}

/**
 * The delay before retry `attempt` (0-based): initial·2^attempt capped at max, with "equal
 * jitter" (half fixed, half random) so that many senders retrying together spread out.
 */
export function backoffDelay(b: ResolvedBackoff, attempt: number, random = Math.random): number {
  const base = Math.min(b.maxDelayMs, b.initialDelayMs * 2 ** attempt);
  return base / 2 + (random() * base) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
