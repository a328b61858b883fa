import { randomUUID } from 'node:crypto';
import type { Consumer, Message, Producer } from '@platformatic/kafka';
import { requireOption } from '../stream/index.js';
import { clientSecurity, loadKafkaClient, type KafkaSecurity } from '../kafka-client/index.js';
import { checkCompression, type CompressionCodec } from '../log/index.js';
import { ActionError } from './errors.js';
import { ACTION_HEADERS, RecentKeys } from './recent-keys.js';
import type { ActionEntry, ActionSink, DeliveryResult } from './sink.js';

export interface KafkaSinkOptions extends KafkaSecurity {
  /** Bootstrap servers, e.g. '127.0.0.1:9092' or ['host1:9092', 'host2:9092']. */
  brokers: string | string[];
  topic: string;
  clientId?: string;
  /** Actions remembered to dedupe replays (read back from the topic's tail at open). Default 100,000. */
  dedupWindow?: number;
  /** How long the scan at open may take before failing. Default 30 s. */
  scanTimeoutMs?: number;
  /** The record value. Default: the payload as JSON. */
  value?: (entry: ActionEntry) => Buffer;
  /** Codec of the batches produced: none (default), gzip, snappy, lz4 or zstd (zstd needs Node >= 22.15). */
  compression?: CompressionCodec;
}

function headerValue(m: Message, name: string): string | undefined {
  for (const [k, v] of m.headers) if (k.toString() === name) return v?.toString('utf8');
  return undefined;
}

/**
 * Produces actions to a Kafka topic (any Kafka-compatible broker, including `sluice broker`),
 * keyed by the record's key (else the idempotency key), with acks from all replicas and the
 * idempotency key in the `sluice.idempotency-key` header. Like `topicSink`, the topic is its own
 * dedup ledger: the keys of its last `dedupWindow` records per partition are read back at open.
 *
 * @example
 * stream.to(action({ name: 'alert', payload: (t) => t, to: kafkaSink({ brokers: '127.0.0.1:9092', topic: 'alerts' }) }));
 */
export function kafkaSink(opts: KafkaSinkOptions): ActionSink {
  const brokers = typeof opts.brokers === 'string' ? opts.brokers.split(',') : opts.brokers;
  requireOption(
    brokers.length > 0 && brokers.every((b) => /^[^:/]+:\d+$/.test(b.trim())),
    'kafkaSink: brokers must be "host:port" entries, e.g. "127.0.0.1:9092"',
  );
  requireOption(typeof opts.topic === 'string' && opts.topic !== '', 'kafkaSink: topic is required');
  const { topic } = opts;
  const window = opts.dedupWindow ?? 100_000;
  const valueOf = opts.value ?? ((e: ActionEntry) => Buffer.from(JSON.stringify(e.payload ?? null)));
  const seen = new RecentKeys(window);
  const compression = checkCompression(opts.compression ?? 'none');
  const base = {
    clientId: opts.clientId ?? 'sluice',
    bootstrapBrokers: brokers.map((b) => b.trim()),
    ...clientSecurity(opts),
  };
  let producer: Producer | undefined;

  /** Reads the last `window` records of every partition and remembers their idempotency keys. */
  const scan = async (kafka: typeof import('@platformatic/kafka')) => {
    // No client-side retries: it retries an unknown topic for seconds. Other errors retry here.
    const consumer: Consumer = new kafka.Consumer({
      ...base,
      groupId: `sluice-dedup-scan-${randomUUID()}`,
      maxWaitTime: 100,
      retries: 0,
    });
    try {
      let hi: bigint[] = [];
      let lo: bigint[] = [];
      for (let attempt = 0; ; attempt++) {
        try {
          hi = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
          lo = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
          break;
        } catch (err) {
          if (/unknown topic/i.test((err as Error).message)) return; // not created yet: nothing to dedupe
          if (attempt >= 4) throw err;
          await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
        }
      }
      const from = hi.map((h, p) =>
        h - BigInt(window) > (lo[p] ?? 0n) ? h - BigInt(window) : (lo[p] ?? 0n),
      );
      const todo = new Set(hi.flatMap((h, p) => (h > from[p]! ? [p] : [])));
      if (todo.size === 0) return;
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'manual',
        autocommit: false,
        offsets: [...todo].map((p) => ({ topic, partition: p, offset: from[p]! })),
      });
      const deadline = Date.now() + (opts.scanTimeoutMs ?? 30_000);
      try {
        for await (const m of stream as AsyncIterable<Message>) {
          const k = headerValue(m, ACTION_HEADERS.key);
          if (k !== undefined) seen.add(k);
          if (m.offset + 1n >= hi[m.partition]!) todo.delete(m.partition);
          if (todo.size === 0) break;
          if (Date.now() > deadline)
            throw new Error(
              `reading back the last ${window} records took over ${opts.scanTimeoutMs ?? 30_000} ms`,
            );
        }
      } finally {
        await stream.close();
      }
    } finally {
      await consumer.close(true);
    }
  };

  return {
    name: `kafka:${topic}`,
    dedupes: true,
    async open() {
      try {
        // Loaded on first use: the client takes ~0.5 s to load, pipelines without Kafka skip it.
        const kafka = await loadKafkaClient();
        await scan(kafka);
        producer = new kafka.Producer({ ...base, acks: -1, autocreateTopics: true, compression });
      } catch (err) {
        throw new ActionError(
          'SLUICE_ACTION_UNAVAILABLE',
          `kafkaSink ${brokers.join(',')}/${topic}: ${(err as Error).message}; is the broker running? check the URL`,
          true,
          { cause: err },
        );
      }
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const messages = [];
      const keys: string[] = [];
      for (const e of entries) {
        if (seen.has(e.key)) continue;
        keys.push(e.key);
        messages.push({
          topic,
          key: Buffer.from(e.recordKey === undefined ? e.key : String(e.recordKey)),
          value: valueOf(e),
          timestamp: BigInt(Math.round(e.eventTime)),
          headers: new Map([
            [Buffer.from(ACTION_HEADERS.key), Buffer.from(e.key)],
            [Buffer.from(ACTION_HEADERS.action), Buffer.from(e.action)],
            ...(e.traceparent === undefined
              ? []
              : [[Buffer.from('traceparent'), Buffer.from(e.traceparent)] as const]),
          ]),
        });
      }
      if (messages.length > 0) {
        try {
          await producer!.send({ messages });
        } catch (err) {
          throw new ActionError(
            'SLUICE_ACTION_UNAVAILABLE',
            `kafkaSink ${topic}: producing ${messages.length} record(s) failed: ${(err as Error).message}; the pipeline resumes from its checkpoint when restarted`,
            true,
            { cause: err },
          );
        }
      }
      for (const k of keys) seen.add(k); // only once produced: a failed send is retried after restart
      return { done: messages.length, duplicates: entries.length - messages.length, rejected: [] };
    },
    async close() {
      await producer?.close();
    },
  };
}
