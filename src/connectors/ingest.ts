// Standalone ingest: push sources into a log topic, whether or not a pipeline runs. Pipelines
// then read the topic like any other (exact, replayable), so their downtime costs latency,
// not readings. MQTT has its own module (its acknowledgements need care); the sources that
// keep messages on their server until acknowledged (NATS JetStream, Redis Streams, Kafka) go
// through their pipeline source: poll, append, fsync, then acknowledge; HTTP through HttpIngest.
import type { Log, ProducerRecord } from '../log/index.js';
import type { Source } from '../stream/index.js';
import { splitUrlPath, urlScheme } from '../core/url.js';
import { ConnectorError } from './errors.js';
import { HttpIngest } from './http-ingest.js';
import { mqttIngest } from './mqtt-ingest.js';
import { partitionFor } from './scale/partitioner.js';
import { sourceFromUrl } from './source-url.js';

/** Counters of a running ingest. */
export interface IngestStats {
  /** Messages received from upstream. */
  received: number;
  /** Messages appended and fsynced (acknowledged upstream after that). */
  appended: number;
  /** Appends made durable (each one fsync, for a batch of messages). */
  syncs: number;
}

/** A running ingest. */
export interface Ingest {
  readonly stats: IngestStats;
  /** Rejects when the ingest fails for good (e.g. the disk); never resolves otherwise. */
  readonly done: Promise<void>;
  /** Where clients send to, for ingests that listen (http: `http://host:port/`). */
  readonly address?: string;
  /** Appends what was received, acknowledges it, disconnects. The log stays open. */
  close(): Promise<void>;
}

export const INGEST_SCHEMES = [
  'mqtt://host:port/topic/filter',
  'nats://host:port/subject',
  'redis://host:port/stream',
  'kafka://host:port/topic',
  'http://host:port',
];

/** Sources that keep messages until acknowledged: poll, append, fsync, commit (acknowledge). */
function pullIngest(source: Source<Buffer | null>, log: Log, to: string): Ingest {
  const stats: IngestStats = { received: 0, appended: 0, syncs: 0 };
  const partitions = log.partitionCount(to);
  let closing = false;
  const loop = async () => {
    while (!closing) {
      const batch = await source.poll(1000);
      if (batch === null) return;
      if (batch.length === 0) continue;
      stats.received += batch.length;
      const byPartition = new Map<number, ProducerRecord[]>();
      for (const env of batch) {
        const p = partitions === 1 || env.key === undefined ? 0 : partitionFor(env.key, partitions);
        const list = byPartition.get(p) ?? [];
        list.push({ value: env.value, timestamp: env.appendTime });
        byPartition.set(p, list);
      }
      for (const [p, list] of byPartition) log.partition(to, p).append(list);
      for (const p of byPartition.keys()) log.partition(to, p).flush();
      stats.appended += batch.length;
      stats.syncs++;
      await source.commit?.(source.positions());
    }
  };
  const done = loop();
  done.catch(() => {});
  return {
    stats,
    done: done.then(() => new Promise<void>(() => {})),
    async close() {
      closing = true;
      await done.catch(() => {});
      await source.close();
    },
  };
}

/**
 * Starts an ingest from `url` into the log topic `to` (created with one partition when
 * missing): `mqtt://host:port/filter` (QoS 1 persistent session, PUBACK after the fsync),
 * `nats://host:port/subject`, `redis://host:port/stream`, `kafka://host:port/topic` (acked or
 * committed after the fsync), or `http://host:port` (HttpIngest: POST /ingest/<to>; open the
 * log with fsync 'batch' so a 200 means durable). `clientId`: MQTT's persistent session. At least once: what was appended but not yet
 * acknowledged when the process died is delivered and appended again.
 *
 * @example
 * const log = Log.open('.sluice/ingest/log');
 * const ingest = await startIngest('mqtt://127.0.0.1:1883/sensors/#', log, 'readings');
 */
export async function startIngest(
  url: string,
  log: Log,
  to: string,
  opts: { clientId?: string } = {},
): Promise<Ingest> {
  if (!log.hasTopic(to)) log.createTopic(to, { partitions: 1 });
  const scheme = urlScheme(url);
  if (scheme === 'mqtt' || scheme === 'mqtts') {
    const m = splitUrlPath(url);
    if (!m)
      throw new ConnectorError(
        'SLUICE_SOURCE_URL',
        `ingest URL: give the topic filter after the host, e.g. mqtt://127.0.0.1:1883/sensors/%23`,
      );
    return mqttIngest({ url: m.base, filter: m.rest, log, to, clientId: opts.clientId });
  }
  if (scheme === 'http') {
    const u = new URL(url);
    const http = await HttpIngest.start({
      log,
      host: u.hostname,
      port: Number(u.port || 80),
      topics: [to],
    });
    return {
      // Live views of HttpIngest's counters (each request's append is fsynced: fsync 'batch').
      stats: {
        get received() {
          return http.stats.records + http.stats.refused;
        },
        get appended() {
          return http.stats.records;
        },
        get syncs() {
          return http.stats.requests;
        },
      },
      address: http.url,
      done: new Promise<void>(() => {}),
      close: () => http.close(),
    };
  }
  if (scheme === 'nats' || scheme === 'redis' || scheme === 'rediss' || scheme === 'kafka') {
    const source = sourceFromUrl(url, { groupId: `sluice-ingest-${to}` });
    await source.open({ pipeline: `ingest-${to}`, startOffsets: undefined });
    return pullIngest(source, log, to);
  }
  throw new ConnectorError(
    'SLUICE_SOURCE_URL',
    `ingest URL "${scheme ? `${scheme}:…` : url}": ${scheme ? `scheme "${scheme}:" is not supported` : 'it has no scheme'}; use one of ${INGEST_SCHEMES.join(', ')}`,
  );
}
