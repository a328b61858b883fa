import { badUrlMessage, fileUrlPath, logUrlParts, splitUrlPath, urlScheme } from '../core/url.js';
import { Log } from '../log/index.js';
import { logSource } from './log-source.js';
import type { Source } from '../stream/index.js';
import { ConnectorError } from './errors.js';
import { fileSource, type FileSourceOptions } from './file-source.js';
import { kafkaSource } from './kafka-source.js';
import { kinesisSource } from './kinesis-source.js';
import { mqttSource } from './mqtt-source.js';
import { natsSource } from './nats-source.js';
import { pubsubSource } from './pubsub-source.js';
import { redisSource } from './redis-source.js';
import { parseKafkaUrlOr } from '../kafka-client/index.js';
import { intParam, parsePubSubUrl } from '../core/pubsub.js';
import { KinesisUrlError, parseKinesisUrl } from '../core/kinesis-url.js';

export const SOURCE_SCHEMES = [
  'kafka://host:port/topic',
  'kafkas://[user@]host:port/topic',
  'mqtt://host:port/topic/filter',
  'nats://host:port/subject',
  'redis://host:port/stream',
  'pubsub://projects/PROJECT/subscriptions/SUB',
  'kinesis://stream?region=REGION[&endpoint=URL]',
  'file:path.ndjson|path.csv',
  'log:DIR/topic',
];

/** Options a URL cannot carry. */
export interface SourceUrlOptions {
  /** Kafka consumer group. Default "sluice". */
  groupId?: string;
  /** MQTT: spool messages into this log (exactly-once); without it MQTT is at most once across crashes. */
  spool?: Log;
  /** Ends an unbounded source once it returns true and the source is caught up. */
  endWhen?: () => boolean;
  /** File options other than the path (rate, eventTime, schema...). */
  file?: Omit<FileSourceOptions, 'path'>;
}

function badUrl(url: string, why: string): ConnectorError {
  return new ConnectorError('SLUICE_SOURCE_URL', badUrlMessage('source', url, why, SOURCE_SCHEMES));
}

/** Splits scheme://authority/rest, requiring a non-empty rest. */
function parts(url: string, what: string): { base: string; rest: string; query: URLSearchParams } {
  const split = splitUrlPath(url);
  if (!split) throw badUrl(url, `give the ${what} after the host, e.g. ${url.replace(/\/*$/, '')}/name`);
  return split;
}

/**
 * The source a URL names: `kafka://host:port/topic` (consumer group, `?group=`), `mqtt://host:port/a/b/#`
 * (QoS 1 persistent session; spooled when `spool` is given), `nats://host:port/subject` (JetStream
 * durable consumer), `redis://host:port/stream` (consumer group, `?group=`, `?consumer=`,
 * `?field=`), `pubsub://projects/P/subscriptions/S` (Google Pub/Sub streaming pull, acked after
 * each checkpoint; `?maxMessages=`, `?maxBytes=` flow control),
 * `kinesis://stream?region=REGION[&endpoint=URL]` (every shard, resharding followed;
 * AWS credentials from the SDK's default chain), `file:path` (CSV or NDJSON replay) or
 * `log:DIR/topic` (a topic of an embedded log directory, opened — and locked — until the source
 * closes; `endWhen` as for the log source).
 *
 * @example
 * const source = sourceFromUrl('redis://127.0.0.1:6379/transactions?group=fraud');
 * pipeline('fraud').from(source).decode(json(TX_SCHEMA))...
 */
export function sourceFromUrl(url: string, opts: SourceUrlOptions = {}): Source<Buffer | null> {
  const scheme = urlScheme(url);
  const endWhen = opts.endWhen;
  switch (scheme) {
    case 'kafka':
    case 'kafkas': {
      const { brokers, topic, query, security } = parseKafkaUrlOr(url, (why) => badUrl(url, why));
      return kafkaSource({
        brokers,
        topic,
        ...security,
        groupId: query.get('group') ?? opts.groupId ?? 'sluice',
        ...(endWhen ? { endWhen } : {}),
      });
    }
    case 'mqtt':
    case 'mqtts': {
      const { base, rest } = parts(url, 'topic filter');
      return mqttSource({
        url: base,
        topic: rest,
        endWhen,
        ...(opts.spool ? { spool: { log: opts.spool } } : {}),
      });
    }
    case 'nats': {
      const { base, rest, query } = parts(url, 'subject');
      return natsSource({ servers: base, subject: rest, stream: query.get('stream') ?? undefined, endWhen });
    }
    case 'redis':
    case 'rediss': {
      const { base, rest, query } = parts(url, 'stream');
      return redisSource({
        url: base,
        stream: rest,
        group: query.get('group') ?? undefined,
        consumer: query.get('consumer') ?? undefined,
        field: query.get('field') ?? undefined,
        endWhen,
      });
    }
    case 'pubsub': {
      try {
        const u = parsePubSubUrl(url);
        if (u.kind !== 'subscriptions')
          throw new Error(`a source reads a subscription: pubsub://projects/${u.project}/subscriptions/NAME`);
        return pubsubSource({
          subscription: u.path,
          maxMessages: intParam(u.query, 'maxMessages'),
          maxBytes: intParam(u.query, 'maxBytes'),
          endWhen,
        });
      } catch (err) {
        if (err instanceof ConnectorError) throw err;
        throw badUrl(url, (err as Error).message);
      }
    }
    case 'kinesis': {
      try {
        const { stream, region, endpoint, query } = parseKinesisUrl(url);
        const startAt = query.get('start');
        if (startAt !== null && startAt !== 'trim-horizon' && startAt !== 'latest')
          throw new KinesisUrlError(`start=${startAt}: use start=trim-horizon (default) or start=latest`);
        const limit = query.get('limit');
        if (limit !== null && !(/^\d+$/.test(limit) && +limit >= 1 && +limit <= 10_000))
          throw new KinesisUrlError(`limit=${limit}: give the records per GetRecords call, 1 to 10000`);
        return kinesisSource({
          stream,
          region,
          endpoint,
          endWhen,
          ...(startAt ? { startAt } : {}),
          ...(limit ? { limit: Number(limit) } : {}),
        });
      } catch (err) {
        if (err instanceof KinesisUrlError) throw badUrl(url, err.reason);
        throw err;
      }
    }
    case 'file': {
      const path = fileUrlPath(url);
      if (path === undefined) throw badUrl(url, 'no path after file:');
      return fileSource({ ...opts.file, path });
    }
    case 'log': {
      const parts = logUrlParts(url);
      if (parts === undefined)
        throw badUrl(url, 'give the log directory and the topic, e.g. log:data/log/transactions');
      const log = Log.open(parts.dir);
      try {
        const source = logSource({ log, topic: parts.topic, endWhen: endWhen ?? 'never' });
        return { ...source, close: async () => (await source.close(), log.close()) };
      } catch (err) {
        log.close();
        throw err;
      }
    }
    default:
      throw badUrl(url, scheme ? `scheme "${scheme}:" is not supported` : 'it has no scheme');
  }
}
