import { randomUUID } from 'node:crypto';
import type { Consumer, Message, Producer } from '@platformatic/kafka';
import { requireOption, type Encoder } from '../stream/index.js';
import { clientSecurity, loadKafkaClient, type KafkaSecurity } from '../kafka-client/index.js';
import { checkCompression, type CompressionCodec } from '../log/index.js';
import { ActionError } from './errors.js';
import { ACTION_HEADERS, RecentKeys } from './recent-keys.js';
import { recordValues } from './record-values.js';
import type { ActionEntry, ActionSink, DeliveryResult, Rejection } from './sink.js';
import type { StageContext } from '../stream/index.js';

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
  /**
   * Encodes payloads instead of `value`: e.g. `avro({ registry, schema })` writes the Confluent
   * wire format, registering the schema under `<topic>-value`. A payload that does not fit the
   * schema is rejected (a dead letter with the reason).
   */
  encode?: Encoder;
  /** Codec of the batches produced: none (default), gzip, snappy, lz4 or zstd (zstd needs Node >= 22.15). */
  compression?: CompressionCodec;
  /**
   * Exactly-once mode (Kafka transactions, like Kafka Streams' EOS): the actions of each
   * checkpoint interval are produced in one transaction, committed when the checkpoint is taken,
   * so a `read_committed` consumer never sees the outputs of an interval that was not
   * checkpointed (a crash aborts them; the replay produces them again). Default false.
   */
  exactlyOnce?: boolean;
  /**
   * The producer's `transactional.id` in exactly-once mode; a restarted pipeline must use the
   * same one, so the new producer fences the old. Default `sluice-<pipeline>-<topic>`.
   */
  transactionalId?: string;
  /** Exactly-once mode: the broker aborts a transaction open longer than this. Default 60 s. */
  transactionTimeoutMs?: number;
}

/** How long the read-back at open waits for another record before it is done. */
const SCAN_IDLE_MS = 1_500;

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

function headerValue(m: Message, name: string): string | undefined {
  for (const [k, v] of m.headers) if (k.toString() === name) return v?.toString('utf8');
  return undefined;
}

/**
 * Produces actions to a Kafka topic (any Kafka-compatible broker, including `sluice broker`),
 * keyed by the record's key (else the idempotency key), with acks from all replicas and the
 * idempotency key in the `sluice.idempotency-key` header. Like `topicActionSink`, the topic is its own
 * dedup ledger: the keys of its last `dedupWindow` records per partition are read back at open.
 *
 * @example
 * stream.to(action({ name: 'alert', payload: (t) => t, to: kafkaActionSink({ brokers: '127.0.0.1:9092', topic: 'alerts' }) }));
 */
export function kafkaActionSink(opts: KafkaSinkOptions): ActionSink {
  const brokers = typeof opts.brokers === 'string' ? opts.brokers.split(',') : opts.brokers;
  requireOption(
    brokers.length > 0 && brokers.every((b) => /^[^:/]+:\d+$/.test(b.trim())),
    'kafkaActionSink: brokers must be "host:port" entries, e.g. "127.0.0.1:9092"',
  );
  requireOption(typeof opts.topic === 'string' && opts.topic !== '', 'kafkaActionSink: topic is required');
  const { topic } = opts;
  const window = opts.dedupWindow ?? 100_000;
  const values = recordValues('kafkaSink', opts.value, opts.encode);
  const seen = new RecentKeys(window);
  const compression = checkCompression(opts.compression ?? 'none');
  const base = {
    clientId: opts.clientId ?? 'sluice',
    bootstrapBrokers: brokers.map((b) => b.trim()),
    ...clientSecurity(opts),
  };
  const exactlyOnce = opts.exactlyOnce === true;
  requireOption(
    opts.transactionTimeoutMs === undefined ||
      (Number.isInteger(opts.transactionTimeoutMs) && opts.transactionTimeoutMs > 0),
    'kafkaSink: transactionTimeoutMs must be a positive integer (ms)',
  );
  let producer: Producer | undefined;
  /** Exactly-once mode: the transaction of the current checkpoint interval, and its keys. */
  let txn: Transaction | undefined;
  const pending = new Set<string>();

  /** Reads the last `window` records of every partition and remembers their idempotency keys. */
  const scan = async (kafka: typeof import('@platformatic/kafka')) => {
    // No client-side retries: it retries an unknown topic for seconds. Other errors retry here.
    const consumer: Consumer = new kafka.Consumer({
      ...base,
      groupId: `sluice-dedup-scan-${randomUUID()}`,
      maxWaitTime: 100,
      retries: 0,
      // Exactly-once: only committed actions count as done; an aborted transaction's are redone.
      isolationLevel: exactlyOnce ? 1 : 0,
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
      const next = (stream as AsyncIterable<Message>)[Symbol.asyncIterator]();
      try {
        for (;;) {
          // A tail that ends with a transaction marker (or, read committed, with aborted records)
          // never delivers its last offset: the read-back is done when nothing more comes.
          // Without transactions in play that is rare: wait longer, so a slow broker is not taken for an end.
          const r = await Promise.race([next.next(), sleep(exactlyOnce ? SCAN_IDLE_MS : 5 * SCAN_IDLE_MS)]);
          if (r === IDLE || r.done === true) break;
          const m = r.value;
          const k = headerValue(m, ACTION_HEADERS.key);
          if (k !== undefined) seen.add(k);
          if (m.offset + 1n >= hi[m.partition]!) todo.delete(m.partition);
          if (todo.size === 0) break;
          if (Date.now() > deadline)
            throw new ActionError(
              'SLUICE_ACTION_UNAVAILABLE',
              `kafkaActionSink: reading back the last ${window} records took over ${opts.scanTimeoutMs ?? 30_000} ms; is the cluster slow or overloaded?`,
              true,
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
    async open(ctx?: StageContext) {
      await values.open(topic);
      try {
        // Loaded on first use: the client takes ~0.5 s to load, pipelines without Kafka skip it.
        const kafka = await loadKafkaClient();
        const transactional = exactlyOnce
          ? {
              idempotent: true,
              transactionalId: opts.transactionalId ?? `sluice-${ctx?.pipeline ?? 'pipeline'}-${topic}`,
              // The client sends its request timeout as the transaction timeout.
              timeout: opts.transactionTimeoutMs ?? 60_000,
              // Otherwise it presents producer id 0 / epoch 0 to InitProducerId (KIP-360), which
              // a broker answers with a fencing error once the transactional id exists.
              producerId: -1n,
              producerEpoch: -1,
            }
          : {};
        producer = new kafka.Producer({
          ...base,
          acks: -1,
          autocreateTopics: true,
          compression,
          ...transactional,
        });
        // Exactly-once: beginning the first transaction (InitProducerId) fences an older instance
        // and aborts what it left open, so the read-back below sees committed actions only.
        if (exactlyOnce) txn = await producer.beginTransaction();
        await scan(kafka);
      } catch (err) {
        throw new ActionError(
          'SLUICE_ACTION_UNAVAILABLE',
          `kafkaActionSink ${brokers.join(',')}/${topic}: ${(err as Error).message}; is the broker running? check the URL`,
          true,
          { cause: err },
        );
      }
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const messages = [];
      const keys: string[] = [];
      const rejected: Rejection[] = [];
      for (const e of entries) {
        if (seen.has(e.key) || pending.has(e.key)) continue;
        const value = values.valueOf(e);
        if (typeof value === 'string') {
          rejected.push({ entry: e, reason: value });
          continue;
        }
        keys.push(e.key);
        messages.push({
          topic,
          key: Buffer.from(e.recordKey === undefined ? e.key : String(e.recordKey)),
          value,
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
      if (messages.length > 0 && exactlyOnce) {
        await sendInTransaction(messages, keys);
        return {
          done: messages.length,
          duplicates: entries.length - messages.length - rejected.length,
          rejected,
        };
      }
      if (messages.length > 0) {
        try {
          await producer!.send({ messages });
        } catch (err) {
          throw new ActionError(
            'SLUICE_ACTION_UNAVAILABLE',
            `kafkaActionSink ${topic}: producing ${messages.length} record(s) failed: ${(err as Error).message}; the pipeline resumes from its checkpoint when restarted`,
            true,
            { cause: err },
          );
        }
      }
      for (const k of keys) seen.add(k); // only once produced: a failed send is retried after restart
      const duplicates = entries.length - messages.length - rejected.length;
      return { done: messages.length, duplicates, rejected };
    },
    async flush() {
      // An empty transaction stays open for the next interval (EndTxn needs something in it).
      if (txn === undefined || pending.size === 0) return;
      const t = txn;
      txn = undefined;
      try {
        await t.commit(); // the checkpoint is saved only after this
      } catch (err) {
        pending.clear();
        throw eosFailure(`committing the transaction failed: ${(err as Error).message}`, err);
      }
      for (const k of pending) seen.add(k);
      pending.clear();
    },
    async close() {
      // An interval that was not checkpointed stays invisible: its replay produces it again.
      if (txn !== undefined && pending.size > 0) await txn.abort().catch(() => {});
      txn = undefined;
      await producer?.close();
    },
  };

  async function sendInTransaction(messages: Parameters<Producer['send']>[0]['messages'], keys: string[]) {
    try {
      txn ??= await producer!.beginTransaction();
      await txn.send({ messages });
    } catch (err) {
      // The interval's earlier actions are in this transaction too: abort it all, and let the
      // pipeline resume from its checkpoint (which replays the whole interval).
      const t = txn;
      txn = undefined;
      pending.clear();
      await t?.abort().catch(() => {});
      throw eosFailure(
        `producing ${messages.length} record(s) in a transaction failed: ${(err as Error).message}`,
        err,
      );
    }
    for (const k of keys) pending.add(k);
  }

  function eosFailure(what: string, cause: unknown): ActionError {
    return new ActionError(
      'SLUICE_ACTION_UNAVAILABLE',
      `kafkaSink ${topic} (exactly-once): ${what}; nothing since the last checkpoint is visible to read_committed consumers, and the pipeline redoes it from its checkpoint when restarted`,
      false,
      { cause },
    );
  }
}

const IDLE = Symbol('idle');
const sleep = (ms: number) =>
  new Promise<typeof IDLE>((resolve) => setTimeout(() => resolve(IDLE), ms).unref());
