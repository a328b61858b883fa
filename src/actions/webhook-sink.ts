import { createHmac, timingSafeEqual } from 'node:crypto';
import { requireOption } from '../stream/index.js';
import { backoffDelay, resolveBackoff, sleep, type BackoffOptions } from './backoff.js';
import { ActionError } from './errors.js';
import type { ActionEntry, ActionSink, DeliveryResult, Rejection } from './sink.js';

/** Header carrying `t=<epoch ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'sluice-signature';
/** The environment variable the signing secret is read from by default. */
export const WEBHOOK_SECRET_ENV = 'SLUICE_WEBHOOK_SECRET';

export interface WebhookSinkOptions {
  /** http(s) URL; user:password in it becomes a Basic Authorization header. */
  url: string;
  /** HMAC-SHA256 signing key; default: the environment variable named by `secretEnv`. */
  secret?: string;
  /** Default SLUICE_WEBHOOK_SECRET. */
  secretEnv?: string;
  /** Refuse to start without a secret (no unsigned requests). Default false. */
  requireSecret?: boolean;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Per-attempt timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /** Retries on 5xx, 408/409/425/429, timeouts and connection errors. Default 5 retries from 100 ms. */
  backoff?: BackoffOptions;
  /** The JSON body of an action. Default `{ idempotency_key, action, payload, event_time }`. */
  body?: (entry: ActionEntry) => unknown;
  /** Receives one line per retry. Default: silent. */
  onWarning?: (message: string) => void;
}

/**
 * Computes the signature header value for `body` sent at `t` (what receivers recompute).
 *
 * @example
 * signWebhook('s3cret', '{"a":1}', 1700000000000); // 't=1700000000000,v1=5f1c…'
 */
export function signWebhook(secret: string, body: string, t = Date.now()): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Checks a `sluice-signature` header against the raw body: true when it was made with `secret`
 * less than `toleranceMs` ago (replayed old requests fail).
 *
 * @example
 * const ok = verifyWebhook(process.env.SLUICE_WEBHOOK_SECRET!, req.headers['sluice-signature'], rawBody);
 */
export function verifyWebhook(
  secret: string,
  header: string | string[] | undefined,
  body: string | Buffer,
  toleranceMs = 5 * 60_000,
  now = Date.now(),
): boolean {
  if (typeof header !== 'string') return false;
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(now - t) > toleranceMs) return false;
  const want = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

const RETRY_STATUS = new Set([408, 409, 425, 429]);

type Outcome = 'done' | 'duplicate' | Rejection;

/**
 * Delivers each action as an HTTP POST with an `Idempotency-Key` header (the action's key) and
 * an HMAC-SHA256 `sluice-signature` header, so the receiver can dedupe replays and trust the
 * sender. 5xx, timeouts and connection errors are retried with exponential backoff; a 4xx is
 * final: the action goes to the dead letters with the status and the receiver's answer.
 *
 * @example
 * // SLUICE_WEBHOOK_SECRET=... in the environment
 * stream.to(action({ name: 'alert', payload: (t) => t, to: webhookSink({ url: 'https://hooks.example.com/fraud' }) }));
 */
export function webhookSink(opts: WebhookSinkOptions): ActionSink {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new ActionError(
      'SLUICE_SINK_URL',
      `webhookSink: "${opts.url}" is not a URL; use http(s)://host[:port]/path`,
    );
  }
  requireOption(
    url.protocol === 'http:' || url.protocol === 'https:',
    `webhookSink: ${url.protocol} is not http: or https:`,
  );
  const secretEnv = opts.secretEnv ?? WEBHOOK_SECRET_ENV;
  const secret = opts.secret ?? process.env[secretEnv];
  if (opts.requireSecret && !secret)
    throw new ActionError(
      'SLUICE_SINK_SECRET',
      `webhookSink: set ${secretEnv} to the receiver's signing secret (requireSecret is on)`,
    );
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = url.password = '';
  }
  const target = url.toString();
  const shown = `${url.origin}${url.pathname}`;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const concurrency = opts.concurrency ?? 8;
  requireOption(
    Number.isInteger(concurrency) && concurrency >= 1,
    `webhookSink: concurrency must be an integer >= 1`,
  );
  const backoff = resolveBackoff(opts.backoff, 'webhookSink');
  const bodyOf =
    opts.body ??
    ((e: ActionEntry) => ({
      idempotency_key: e.key,
      action: e.action,
      payload: e.payload,
      event_time: e.eventTime,
    }));

  const send = async (entry: ActionEntry): Promise<Outcome> => {
    const body = JSON.stringify(bodyOf(entry));
    let last = '';
    for (let attempt = 0; ; attempt++) {
      let wait = 0;
      try {
        const h: Record<string, string> = { ...headers, 'idempotency-key': entry.key };
        if (secret) h[SIGNATURE_HEADER] = signWebhook(secret, body);
        const res = await fetch(target, {
          method: 'POST',
          headers: h,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = (await res.text()).slice(0, 300);
        if (res.status >= 200 && res.status < 300)
          return res.headers.get('idempotent-replayed') === 'true' ? 'duplicate' : 'done';
        last = `HTTP ${res.status} ${res.statusText} from ${shown}${text ? `: ${text}` : ''}`;
        if (res.status >= 300 && res.status < 400)
          return {
            entry,
            reason: `${last} (redirected to ${res.headers.get('location')}: configure that URL)`,
          };
        if (res.status < 500 && !RETRY_STATUS.has(res.status)) return { entry, reason: last };
        const after = Number(res.headers.get('retry-after'));
        if (Number.isFinite(after) && after > 0) wait = Math.min(after * 1000, 60_000);
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        last =
          e.name === 'TimeoutError'
            ? `no answer from ${shown} within ${timeoutMs} ms`
            : `${shown}: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
      }
      if (attempt >= backoff.retries)
        throw new ActionError(
          'SLUICE_ACTION_UNAVAILABLE',
          `webhook ${shown} failed ${attempt + 1} times for ${entry.key} (last: ${last}); the pipeline stops and resumes from its checkpoint when restarted`,
          true,
        );
      opts.onWarning?.(`webhook ${shown}: ${last}; retry ${attempt + 1}/${backoff.retries}`);
      await sleep(Math.max(wait, backoffDelay(backoff, attempt)));
    }
  };

  return {
    name: `webhook:${shown}`,
    dedupes: true,
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const result: DeliveryResult = { done: 0, duplicates: 0, rejected: [] };
      let next = 0;
      let failed = false;
      const worker = async () => {
        // After one action gave up, the others stop taking new ones: the batch fails as a whole.
        while (next < entries.length && !failed) {
          const out = await send(entries[next++]!).catch((err: unknown) => {
            failed = true;
            throw err;
          });
          if (out === 'done') result.done++;
          else if (out === 'duplicate') result.duplicates++;
          else result.rejected.push(out);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
      return result;
    },
  };
}
