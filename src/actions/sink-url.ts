import { badUrlMessage, fileUrlPath, urlScheme } from '../core/url.js';
import { parseKafkaUrlOr } from '../kafka-client/index.js';
import { ActionError } from './errors.js';
import { fileActionSink } from './file-sink.js';
import { kafkaActionSink } from './kafka-sink.js';
import { postgresActionSink } from './postgres-sink.js';
import type { ActionSink } from './sink.js';
import type { Encoder } from '../stream/index.js';
import { webhookActionSink, type WebhookSinkOptions } from './webhook-sink.js';
import { pubsubActionSink } from './pubsub-sink.js';
import { intParam, parsePubSubUrl } from '../core/pubsub.js';
import { kinesisActionSink } from './kinesis-sink.js';
import { KinesisUrlError, parseKinesisUrl } from '../core/kinesis-url.js';

export const ACTION_SINK_SCHEMES = [
  'postgres://',
  'http(s)://',
  'kafka://host:port/topic',
  'kafkas://[user@]host:port/topic',
  'pubsub://projects/PROJECT/topics/TOPIC',
  'kinesis://stream?region=REGION[&endpoint=URL]',
  'file:path.jsonl',
];

/** Options that a URL cannot carry. */
export interface ActionSinkUrlOptions {
  /** Webhook options other than the URL (secret, timeout, retries...). */
  webhook?: Omit<WebhookSinkOptions, 'url'>;
  /** Kafka client id. */
  clientId?: string;
  /**
   * The encoder a `kafka://` URL's `?format=avro|protobuf|json-schema&registry=…` asks for:
   * pass the connectors' `encoderFromUrl`. Without it such a URL is refused.
   */
  encode?: (url: string) => Encoder | undefined;
}

function badUrl(url: string, why: string): ActionError {
  return new ActionError('SLUICE_SINK_URL', badUrlMessage('sink', url, why, ACTION_SINK_SCHEMES));
}

/**
 * The action sink a URL names: `postgres://user@host:port/db[?table=NAME]` (batched upsert on
 * the idempotency key), `http(s)://...` (webhook with Idempotency-Key and HMAC signature; secret
 * from SLUICE_WEBHOOK_SECRET), `kafka://host:port/topic` (keyed records, deduped against the
 * topic's tail; `kafkas://user@host:port/topic` for TLS + SASL, see parseKafkaUrl),
 * `pubsub://projects/P/topics/T` (batched publishes; `?ordering=record` orders by the record key;
 * does not dedupe by itself, so the action needs a ledger), `kinesis://stream?region=REGION[&endpoint=URL]`
 * (PutRecords; needs the action's ledger) or `file:path.jsonl` (a JSON-lines ledger).
 *
 * @example
 * stream.to(action({ name: 'alert', payload: (t) => t, to: actionSinkFromUrl('postgres://postgres@127.0.0.1/test?table=alerts') }));
 */
export function actionSinkFromUrl(url: string, opts: ActionSinkUrlOptions = {}): ActionSink {
  const scheme = urlScheme(url);
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return postgresActionSink({ url });
    case 'http':
    case 'https':
      return webhookActionSink({ ...opts.webhook, url });
    case 'kafka':
    case 'kafkas': {
      const { brokers, topic, security } = parseKafkaUrlOr(url, (why) => badUrl(url, why));
      const format = new URLSearchParams(url.split('?')[1] ?? '').get('format');
      const encode = opts.encode?.(url);
      if (format !== null && format !== 'json' && encode === undefined)
        throw badUrl(url, `?format=${format} needs an encoder (pass { encode: encoderFromUrl })`);
      return kafkaActionSink({
        brokers,
        topic,
        ...security,
        clientId: opts.clientId,
        ...(encode ? { encode } : {}),
      });
    }
    case 'pubsub':
      return pubsubSinkFromUrl(url);
    case 'kinesis':
      try {
        const { stream, region, endpoint } = parseKinesisUrl(url);
        return kinesisActionSink({ stream, region, endpoint });
      } catch (err) {
        if (err instanceof KinesisUrlError) throw badUrl(url, err.reason);
        throw err;
      }
    case 'file': {
      const path = fileUrlPath(url);
      if (path === undefined) throw badUrl(url, 'no path after file:');
      return fileActionSink({ path });
    }
    default:
      throw badUrl(url, scheme ? `scheme "${scheme}:" is not supported` : 'it has no scheme');
  }
}

/** `pubsub://projects/P/topics/T[?ordering=record&batchMessages=N&batchMs=N]` to a Pub/Sub sink. */
function pubsubSinkFromUrl(url: string): ActionSink {
  try {
    const u = parsePubSubUrl(url);
    if (u.kind !== 'topics')
      throw new Error(`a sink publishes to a topic: pubsub://projects/${u.project}/topics/NAME`);
    const ordering = u.query.get('ordering');
    if (ordering !== null && ordering !== 'record')
      throw new Error(`?ordering= takes "record" (the record key is the ordering key), got "${ordering}"`);
    return pubsubActionSink({
      topic: u.path,
      ...(ordering ? { orderingKey: 'record' as const } : {}),
      batchMessages: intParam(u.query, 'batchMessages'),
      batchMs: intParam(u.query, 'batchMs'),
    });
  } catch (err) {
    if (err instanceof ActionError) throw err;
    throw badUrl(url, (err as Error).message);
  }
}
