import {
  requireOption,
  type DeadLetterSink,
  type Envelope,
  type Sink,
  type StageContext,
} from '../stream/index.js';
import { action, idempotencyKey } from './action.js';
import type { ActionLedger } from './ledger.js';
import type { ActionSink } from './sink.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** The payload of an alert action (what the webhook receives under `payload`). */
export interface AlertPayload {
  alert: string;
  severity: AlertSeverity;
  /** What the alert is about (a card, a host); rate limits apply per key. */
  key: string;
  summary: string;
  details?: unknown;
  /** Event time of the record that raised it, epoch ms. */
  event_time: number;
}

export interface AlertOptions<T> {
  /** Alert name; part of every idempotency key. */
  name: string;
  /** Where alerts go, usually `webhookActionSink(...)`. */
  to: ActionSink;
  /** Dedup ledger, also the history the rate limits are rebuilt from after a restart. */
  ledger: ActionLedger;
  when?: (value: T, env: Envelope<T>) => boolean;
  severity: AlertSeverity | ((value: T) => AlertSeverity);
  /** Default: the record key (`keyBy`), else "all". */
  key?: (value: T, env: Envelope<T>) => string;
  summary: (value: T) => string;
  details?: (value: T) => unknown;
  /** At most `max` alerts per key within `perMs` of event time. Default 1 per minute. */
  rateLimit?: { max: number; perMs: number };
  /** Where alerts the receiver refused (4xx) go; without it a refusal fails the pipeline. */
  deadLetters?: DeadLetterSink;
}

/**
 * Per key, the event times of the alerts raised, kept sorted. Decisions use event time, not
 * the clock, so a replay after a crash suppresses exactly what the first run suppressed.
 */
class KeyRateLimiter {
  private readonly times = new Map<string, number[]>();
  suppressed = 0;
  constructor(
    readonly max: number,
    readonly perMs: number,
  ) {}

  remember(key: string, t: number): void {
    const list = this.times.get(key) ?? [];
    let i = list.length;
    while (i > 0 && list[i - 1]! > t) i--;
    list.splice(i, 0, t);
    this.times.set(key, list);
  }

  /** True (and remembered) when fewer than `max` alerts of `key` fall in (t − perMs, t]. */
  allow(key: string, t: number): boolean {
    const list = this.times.get(key) ?? [];
    let n = 0;
    for (let i = list.length - 1; i >= 0 && n < this.max; i--)
      if (list[i]! <= t && list[i]! > t - this.perMs) n++;
    if (n >= this.max) {
      this.suppressed++;
      return false;
    }
    // Drop what no later decision can count: times older than the newest minus the window.
    const newest = Math.max(t, list[list.length - 1] ?? t);
    while (list.length > 0 && list[0]! <= newest - 2 * this.perMs) list.shift();
    this.remember(key, t);
    return true;
  }
}

/**
 * An alert action: a webhook-shaped payload (`alert`, `severity`, `key`, `summary`, `details`,
 * `event_time`), deduplicated by idempotency key, and rate limited per key in event time so a
 * burst on one card raises one alert, not hundreds.
 *
 * @example
 * stream.to(alert({
 *   name: 'fraud', ledger, to: webhookActionSink({ url: 'https://pager.example.com/hook' }),
 *   when: (t) => t.score > 0.95, severity: 'critical', key: (t) => `card-${t.cardId}`,
 *   summary: (t) => `card ${t.cardId}: fraud score ${t.score.toFixed(2)}`, rateLimit: { max: 1, perMs: 600_000 },
 * }));
 */
export function alert<T>(opts: AlertOptions<T>): Sink<T> & { suppressed(): number } {
  const { max, perMs } = opts.rateLimit ?? { max: 1, perMs: 60_000 };
  requireOption(
    Number.isInteger(max) && max >= 1,
    `alert "${opts.name}": rateLimit.max must be an integer >= 1`,
  );
  requireOption(perMs > 0, `alert "${opts.name}": rateLimit.perMs must be > 0`);
  const limiter = new KeyRateLimiter(max, perMs);
  const keyOf = opts.key ?? ((_: T, env: Envelope<T>) => (env.key === undefined ? 'all' : String(env.key)));
  const severityOf =
    typeof opts.severity === 'function' ? opts.severity : () => opts.severity as AlertSeverity;
  let pipelineName = '';
  const inner = action<T>({
    name: opts.name,
    ledger: opts.ledger,
    to: opts.to,
    deadLetters: opts.deadLetters,
    when: (v, env) => {
      if (opts.when && !opts.when(v, env)) return false;
      // Already raised (a replay): let the ledger count it as a duplicate, and don't count it twice.
      if (opts.ledger.has(idempotencyKey(pipelineName, opts.name, env))) return true;
      return limiter.allow(keyOf(v, env), env.eventTime);
    },
    payload: (v, env): AlertPayload => ({
      alert: opts.name,
      severity: severityOf(v),
      key: keyOf(v, env),
      summary: opts.summary(v),
      ...(opts.details ? { details: opts.details(v) } : {}),
      event_time: env.eventTime,
    }),
  });
  return {
    ...inner,
    name: `alert:${opts.name}`,
    async open(ctx: StageContext) {
      pipelineName = ctx.pipeline;
      for (const e of opts.ledger.entries()) {
        const p = e.payload as Partial<AlertPayload> | null;
        if (e.action === opts.name && p && typeof p.key === 'string' && typeof p.event_time === 'number')
          limiter.remember(p.key, p.event_time);
      }
      await inner.open?.(ctx);
    },
    suppressed: () => limiter.suppressed,
  };
}
