import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Log } from '../log/index.js';
import type { Source } from '../stream/index.js';
import { ConnectorError } from './errors.js';
import { fileSource, type FileSourceOptions } from './file-source.js';
import { kafkaSource } from './kafka-source.js';
import { kinesisSource } from './kinesis-source.js';
import { mqttSource } from './mqtt-source.js';
import { natsSource } from './nats-source.js';
import { redisSource } from './redis-source.js';
import { KafkaUrlError, parseKafkaUrl, type KafkaUrl } from '../kafka-client/index.js';
import { redactUrls } from '../core/redact.js';
import { KinesisUrlError, parseKinesisUrl } from '../core/kinesis-url.js';

export const SOURCE_SCHEMES = [
  'kafka://host:port/topic',
  'kafkas://[user@]host:port/topic',
  'mqtt://host:port/topic/filter',
  'nats://host:port/subject',
  'redis://host:port/stream',
  'kinesis://stream?region=REGION[&endpoint=URL]',
  'file:path.ndjson|path.csv',
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
  return new ConnectorError(
    'SLUICE_SOURCE_URL',
    redactUrls(`source URL "${url}": ${why}; use one of ${SOURCE_SCHEMES.join(', ')}`),
  );
}

/** Kafka URLs are parsed in one place for sources and sinks (kafka-client), errors made ours here. */
function kafkaUrl(url: string): KafkaUrl {
  try {
    return parseKafkaUrl(url);
  } catch (err) {
    if (err instanceof KafkaUrlError) throw badUrl(url, err.reason);
    throw err;
  }
}

/** Splits scheme://authority/rest, requiring a non-empty rest. */
function parts(url: string, what: string): { base: string; rest: string; query: URLSearchParams } {
  const m = /^([a-z]+s?:\/\/[^/?#]+)\/([^?#]+)(\?[^#]*)?$/i.exec(url);
  if (!m) throw badUrl(url, `give the ${what} after the host, e.g. ${url.replace(/\/*$/, '')}/name`);
  return { base: m[1]!, rest: decodeURIComponent(m[2]!), query: new URLSearchParams(m[3] ?? '') };
}

/**
 * The source a URL names: `kafka://host:port/topic` (consumer group, `?group=`), `mqtt://host:port/a/b/#`
 * (QoS 1 persistent session; spooled when `spool` is given), `nats://host:port/subject` (JetStream
 * durable consumer), `redis://host:port/stream` (consumer group, `?group=`, `?consumer=`,
 * `?field=`), `kinesis://stream?region=REGION[&endpoint=URL]` (every shard, resharding followed;
 * AWS credentials from the SDK's default chain) or `file:path` (CSV or NDJSON replay).
 *
 * @example
 * const source = sourceFromUrl('redis://127.0.0.1:6379/transactions?group=fraud');
 * pipeline('fraud').from(source).decode(json(TX_SCHEMA))...
 */
export function sourceFromUrl(url: string, opts: SourceUrlOptions = {}): Source<Buffer | null> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const endWhen = opts.endWhen;
  switch (scheme) {
    case 'kafka':
    case 'kafkas': {
      const { brokers, topic, query, security } = kafkaUrl(url);
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
      const rest = url.slice('file:'.length);
      if (rest === '') throw badUrl(url, 'no path after file:');
      const path = rest.startsWith('//') ? fileURLToPath(url) : rest;
      return fileSource({ ...opts.file, path: isAbsolute(path) ? path : resolve(path) });
    }
    default:
      throw badUrl(url, scheme ? `scheme "${scheme}:" is not supported` : 'it has no scheme');
  }
}
