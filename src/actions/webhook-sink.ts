import { createHmac, timingSafeEqual } from 'node:crypto';
import { requireOption } from '../stream/index.js';
import { backoffDelay, resolveBackoff, sleep, type BackoffOptions } from './backoff.js';
import { ActionError } from './errors.js';
import type { ActionEntry, ActionSink, DeliveryResult, Rejection } from './sink.js';
import { redactUrls } from '../core/redact.js';

/**
 * Header carrying `t=<epoch ms>,v2=<hex HMAC-SHA256 of "<t>.<Idempotency-Key>\n<body>">`. The
 * idempotency key is signed too, so a receiver that dedupes on it can trust it (a header value
 * cannot hold a newline, so key and body cannot be shifted into each other).
 */
export const SIGNATURE_HEADER = 'sluice-signature';
/** The environment variable the signing secret is read from by default. */
export const WEBHOOK_SECRET_ENV = 'SLUICE_WEBHOOK_SECRET';
/** The value of the secret variable that explicitly asks for unsigned requests. */
export const UNSIGNED = 'unsigned';
/** How old a signed request may be when verified, by default: long enough for retries in flight, short for replays. */
export const DEFAULT_WEBHOOK_TOLERANCE_MS = 60_000;

export interface WebhookSinkOptions {
  /** http(s) URL; user:password in it becomes a Basic Authorization header. */
  url: string;
  /** HMAC-SHA256 signing key; default: the environment variable named by `secretEnv`. */
  secret?: string;
  /** Default SLUICE_WEBHOOK_SECRET. Its value `unsigned` means the same as `unsigned: true`. */
  secretEnv?: string;
  /**
   * Send requests without a signature, for receivers that cannot verify one. Without it a sink
   * with no secret refuses to start (SLUICE_SINK_SECRET). Default false.
   */
  unsigned?: boolean;
  /** Kept for compatibility: a secret is now required unless `unsigned`. */
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
  /** Receives one line per retry, and the notice that requests go out unsigned. Default: silent / console.warn. */
  onWarning?: (message: string) => void;
}

function requireSecretValue(secret: string, fn: string): void {
  if (typeof secret !== 'string' || secret.length === 0)
    throw new ActionError(
      'SLUICE_SINK_SECRET',
      `${fn}: the secret is empty; pass the signing secret shared with the sender (e.g. process.env.${WEBHOOK_SECRET_ENV})`,
    );
}

function mac(secret: string, t: number, idempotencyKey: string) {
  return createHmac('sha256', secret).update(`${t}.${idempotencyKey}\n`);
}

/**
 * Computes the signature header value for `body` with `idempotencyKey`, sent at `t` (what
 * receivers recompute).
 *
 * @example
 * signWebhook('s3cret', '{"a":1}', 'fraud/alert/tx-0@7'); // 't=1700000000000,v2=5f1c…'
 */
export function signWebhook(secret: string, body: string, idempotencyKey: string, t = Date.now()): string {
  requireSecretValue(secret, 'signWebhook');
  return `t=${t},v2=${mac(secret, t, idempotencyKey).update(body).digest('hex')}`;
}

export interface VerifyWebhookOptions {
  /** The request's `Idempotency-Key` (taken from the headers when `verifyWebhook` is given them). */
  idempotencyKey?: string;
  /** Oldest (and furthest in the future) signature accepted. Default 60 s: dedupe on the key within it. */
  toleranceMs?: number;
  now?: number;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * Checks a `sluice-signature` against the raw body and the `Idempotency-Key`: true when it was
 * made with `secret` less than `toleranceMs` (default 60 s) ago. Pass the request's headers (both
 * are read from them) or the signature header with `{ idempotencyKey }`. An empty secret throws:
 * it would make anyone's signature valid. Within the tolerance a captured request can be sent
 * again: the receiver dedupes it on its (signed) Idempotency-Key.
 *
 * @example
 * const ok = verifyWebhook(process.env.SLUICE_WEBHOOK_SECRET!, req.headers, rawBody);
 */
export function verifyWebhook(
  secret: string,
  headers: Headers | string | string[] | undefined,
  body: string | Buffer,
  opts: VerifyWebhookOptions = {},
): boolean {
  requireSecretValue(secret, 'verifyWebhook');
  const fromHeaders = headers !== null && typeof headers === 'object' && !Array.isArray(headers);
  const header = fromHeaders ? headers[SIGNATURE_HEADER] : headers;
  const key = fromHeaders ? headers['idempotency-key'] : opts.idempotencyKey;
  if (typeof header !== 'string' || typeof key !== 'string') return false;
  const m = /^t=(\d+),v2=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs((opts.now ?? Date.now()) - t) > (opts.toleranceMs ?? DEFAULT_WEBHOOK_TOLERANCE_MS))
    return false;
  const want = mac(secret, t, key).update(body).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

const RETRY_STATUS = new Set([408, 409, 425, 429]);

type Outcome = 'done' | 'duplicate' | Rejection;

/**
 * Delivers each action as an HTTP POST with an `Idempotency-Key` header (the action's key) and
 * an HMAC-SHA256 `sluice-signature` header (over the time, the key and the body), so the receiver can dedupe replays and trust the
 * sender. 5xx, timeouts and connection errors are retried with exponential backoff; a 4xx is
 * final: the action goes to the dead letters with the status and the receiver's answer.
 *
 * @example
 * // SLUICE_WEBHOOK_SECRET=... in the environment (or =unsigned to send without a signature)
 * stream.to(action({ name: 'alert', payload: (t) => t, to: webhookActionSink({ url: 'https://hooks.example.com/fraud' }) }));
 */
export function webhookActionSink(opts: WebhookSinkOptions): ActionSink {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new ActionError(
      'SLUICE_SINK_URL',
      `webhookActionSink: "${redactUrls(opts.url)}" is not a URL; use http(s)://host[:port]/path`,
    );
  }
  requireOption(
    url.protocol === 'http:' || url.protocol === 'https:',
    `webhookActionSink: ${url.protocol} is not http: or https:`,
  );
  const secretEnv = opts.secretEnv ?? WEBHOOK_SECRET_ENV;
  const fromEnv = process.env[secretEnv];
  const unsigned = opts.unsigned === true || (opts.secret === undefined && fromEnv === UNSIGNED);
  const secret = unsigned ? undefined : opts.secret || fromEnv;
  if (!unsigned && !secret)
    throw new ActionError(
      'SLUICE_SINK_SECRET',
      `webhookActionSink: set ${secretEnv} to the receiver's signing secret (or to "${UNSIGNED}" to send unsigned requests, which anyone could forge)`,
    );
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = url.password = '';
  }
  const target = url.toString();
  const shown = `${url.origin}${url.pathname}`;
  if (unsigned)
    (opts.onWarning ?? console.warn)(
      `webhook ${shown}: requests go out unsigned (${opts.unsigned ? 'unsigned: true' : `${secretEnv}=${UNSIGNED}`}): the receiver cannot tell them from forged ones`,
    );
  const timeoutMs = opts.timeoutMs ?? 5000;
  const concurrency = opts.concurrency ?? 8;
  requireOption(
    Number.isInteger(concurrency) && concurrency >= 1,
    `webhookActionSink: concurrency must be an integer >= 1`,
  );
  const backoff = resolveBackoff(opts.backoff, 'webhookActionSink');
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
        if (secret) h[SIGNATURE_HEADER] = signWebhook(secret, body, entry.key);
        if (entry.traceparent !== undefined) h.traceparent = entry.traceparent;
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
