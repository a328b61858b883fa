import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaUrlError, parseKafkaUrl, type KafkaSecurity } from '../kafka-client/index.js';
import { ActionError } from './errors.js';
import { fileSink } from './file-sink.js';
import { kafkaSink } from './kafka-sink.js';
import { kinesisSink } from './kinesis-sink.js';
import { postgresSink } from './postgres-sink.js';
import type { ActionSink } from './sink.js';
import { webhookSink, type WebhookSinkOptions } from './webhook-sink.js';
import { redactUrls } from '../core/redact.js';
import { KinesisUrlError, parseKinesisUrl } from '../core/kinesis-url.js';

export const ACTION_SINK_SCHEMES = [
  'postgres://',
  'http(s)://',
  'kafka://host:port/topic',
  'kafkas://[user@]host:port/topic',
  'kinesis://stream?region=REGION[&endpoint=URL]',
  'file:path.jsonl',
];

/** Options that a URL cannot carry. */
export interface ActionSinkUrlOptions {
  /** Webhook options other than the URL (secret, timeout, retries...). */
  webhook?: Omit<WebhookSinkOptions, 'url'>;
  /** Kafka client id. */
  clientId?: string;
}

function badUrl(url: string, why: string): ActionError {
  return new ActionError(
    'SLUICE_SINK_URL',
    redactUrls(`sink URL "${url}": ${why}; use one of ${ACTION_SINK_SCHEMES.join(', ')}`),
  );
}

/** `file:rel/path`, `file:/abs/path` or `file:///abs/path` to a path. */
export function filePathOf(url: string): string {
  const rest = url.slice('file:'.length);
  const path = rest.startsWith('//') ? fileURLToPath(url) : rest;
  return isAbsolute(path) ? path : resolve(path);
}

/** `kafka[s]://[user@]h1:9092,h2:9092/topic` to brokers, topic and TLS/SASL settings. */
export function kafkaUrlParts(url: string): { brokers: string[]; topic: string } & KafkaSecurity {
  try {
    const { brokers, topic, security } = parseKafkaUrl(url);
    return { brokers, topic, ...security };
  } catch (err) {
    if (err instanceof KafkaUrlError) throw badUrl(url, err.reason);
    throw err;
  }
}

/**
 * The action sink a URL names: `postgres://user@host:port/db[?table=NAME]` (batched upsert on
 * the idempotency key), `http(s)://...` (webhook with Idempotency-Key and HMAC signature; secret
 * from SLUICE_WEBHOOK_SECRET), `kafka://host:port/topic` (keyed records, deduped against the
 * topic's tail; `kafkas://user@host:port/topic` for TLS + SASL, see parseKafkaUrl),
 * `kinesis://stream?region=REGION[&endpoint=URL]` (PutRecords; needs the action's ledger) or
 * `file:path.jsonl` (a JSON-lines ledger).
 *
 * @example
 * stream.to(action({ name: 'alert', payload: (t) => t, to: actionSinkFromUrl('postgres://postgres@127.0.0.1/test?table=alerts') }));
 */
export function actionSinkFromUrl(url: string, opts: ActionSinkUrlOptions = {}): ActionSink {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return postgresSink({ url });
    case 'http':
    case 'https':
      return webhookSink({ ...opts.webhook, url });
    case 'kafka':
    case 'kafkas':
      return kafkaSink({ ...kafkaUrlParts(url), clientId: opts.clientId });
    case 'kinesis':
      try {
        const { stream, region, endpoint } = parseKinesisUrl(url);
        return kinesisSink({ stream, region, endpoint });
      } catch (err) {
        if (err instanceof KinesisUrlError) throw badUrl(url, err.reason);
        throw err;
      }
    case 'file':
      if (url.length <= 'file:'.length) throw badUrl(url, 'no path after file:');
      return fileSink({ path: filePathOf(url) });
    default:
      throw badUrl(url, scheme ? `scheme "${scheme}:" is not supported` : 'it has no scheme');
  }
}
