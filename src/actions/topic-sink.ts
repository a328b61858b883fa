import { checkCompression, type CompressionCodec } from '../log/index.js';
import { requireOption, type Encoder } from '../stream/index.js';
import { ACTION_HEADERS, RecentKeys, hashKey } from './recent-keys.js';
import { recordValues } from './record-values.js';
import type { ActionEntry, ActionSink, DeliveryResult, Rejection } from './sink.js';

interface HeaderLike {
  key: string;
  value: Buffer | null;
}

/** The part of an embedded-log partition the topic sink uses (the log's `Partition` fits). */
export interface LogPartitionLike {
  readonly highWatermark: number;
  readonly logStartOffset: number;
  append(
    records: readonly {
      key?: Buffer | null;
      value: Buffer | null;
      timestamp?: number;
      headers?: readonly HeaderLike[];
    }[],
    now?: number,
    compression?: CompressionCodec,
  ): unknown;
  read(
    offset: number,
    maxBytes?: number,
  ): { records: readonly { headers: readonly HeaderLike[] }[]; nextOffset: number };
  flush(): void;
}

/** The part of the embedded log the topic sink uses (the log's `Log` fits). */
export interface LogLike {
  hasTopic(topic: string): boolean;
  createTopic(topic: string, config: { partitions: number }): void;
  partitionCount(topic: string): number;
  partition(topic: string, p: number): LogPartitionLike;
}

export interface TopicSinkOptions {
  log: LogLike;
  topic: string;
  /** Partitions when the sink creates the topic. Default 1. */
  partitions?: number;
  /**
   * Actions remembered to dedupe replays: the keys in the last `dedupWindow` records of the
   * topic are read back at open. Must exceed the actions written between two checkpoints.
   * Default 100,000.
   */
  dedupWindow?: number;
  /** The record value. Default: the payload as JSON. */
  value?: (entry: ActionEntry) => Buffer;
  /**
   * Encodes payloads instead of `value`: e.g. `avro({ registry, schema })` writes the Confluent
   * wire format, registering the schema under `<topic>-value`. A payload that does not fit the
   * schema is rejected (a dead letter with the reason).
   */
  encode?: Encoder;
  /** Codec of the batches written: none (default), gzip, snappy, lz4 or zstd (zstd needs Node >= 22.15). */
  compression?: CompressionCodec;
  /**
   * Exactly-once mode: the actions of a checkpoint interval are held back and appended when the
   * checkpoint is taken (one batch per partition, before the checkpoint is saved), so no reader
   * ever sees the outputs of an interval that was not checkpointed; a crash drops them and the
   * replay writes them, once. Default false (each delivery is appended at once).
   */
  exactlyOnce?: boolean;
}

/** Collects the idempotency keys of the last `window` records of each partition. */
export function scanRecentKeys(part: LogPartitionLike, window: number, into: RecentKeys): void {
  let offset = Math.max(part.logStartOffset, part.highWatermark - window);
  while (offset < part.highWatermark) {
    const { records, nextOffset } = part.read(offset, 4 << 20);
    for (const r of records) {
      const h = r.headers.find((x) => x.key === ACTION_HEADERS.key);
      if (h?.value) into.add(h.value.toString('utf8'));
    }
    if (nextOffset <= offset) break;
    offset = nextOffset;
  }
}

/**
 * Produces actions to a topic of the embedded log, keyed by the record's key (else the
 * idempotency key), with the idempotency key in the `sluice.idempotency-key` header. The topic
 * is its own dedup ledger: at open the keys of its recent records are read back, so a replay
 * after a crash appends nothing twice.
 *
 * @example
 * const log = Log.open('./data/log');
 * stream.to(action({ name: 'alert', payload: (t) => t, to: topicActionSink({ log, topic: 'alerts' }) }));
 */
export function topicActionSink(opts: TopicSinkOptions): ActionSink {
  const { log, topic } = opts;
  const window = opts.dedupWindow ?? 100_000;
  requireOption(
    Number.isInteger(window) && window > 0,
    'topicActionSink: dedupWindow must be a positive integer',
  );
  const values = recordValues('topicActionSink', opts.value, opts.encode);
  const seen = new RecentKeys(window);
  const compression = checkCompression(opts.compression ?? 'none');
  let parts: LogPartitionLike[] = [];
  type Staged = Parameters<LogPartitionLike['append']>[0][number];
  /** Exactly-once mode: the interval's records per partition, appended at the checkpoint. */
  let staged: Staged[][] = [];
  const pending = new Set<string>();
  const append = (byPart: Staged[][]) =>
    byPart.forEach((records, p) => records.length > 0 && parts[p]!.append(records, undefined, compression));
  return {
    name: `topic:${topic}`,
    dedupes: true,
    async open() {
      await values.open(topic);
      if (!log.hasTopic(topic)) log.createTopic(topic, { partitions: opts.partitions ?? 1 });
      parts = Array.from({ length: log.partitionCount(topic) }, (_, p) => log.partition(topic, p));
      for (const p of parts) scanRecentKeys(p, window, seen);
      staged = parts.map(() => []);
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const byPart: Staged[][] = opts.exactlyOnce === true ? staged : parts.map(() => []);
      let done = 0;
      const rejected: Rejection[] = [];
      for (const e of entries) {
        if (seen.has(e.key) || pending.has(e.key)) continue;
        const value = values.valueOf(e);
        if (typeof value === 'string') {
          rejected.push({ entry: e, reason: value });
          continue;
        }
        // Exactly-once: a key counts as written only once its interval is appended.
        (opts.exactlyOnce === true ? pending : seen).add(e.key);
        const key = e.recordKey === undefined ? e.key : String(e.recordKey);
        byPart[hashKey(key) % parts.length]!.push({
          key: Buffer.from(key),
          value,
          timestamp: e.eventTime,
          headers: [
            { key: ACTION_HEADERS.key, value: Buffer.from(e.key) },
            { key: ACTION_HEADERS.action, value: Buffer.from(e.action) },
            ...(e.traceparent === undefined
              ? []
              : [{ key: 'traceparent', value: Buffer.from(e.traceparent) }]),
          ],
        });
        done++;
      }
      if (opts.exactlyOnce !== true) append(byPart);
      return { done, duplicates: entries.length - done - rejected.length, rejected };
    },
    flush() {
      if (opts.exactlyOnce === true) {
        append(staged);
        staged = parts.map(() => []);
        for (const k of pending) seen.add(k);
        pending.clear();
      }
      for (const p of parts) p.flush();
    },
    close() {
      staged = parts.map(() => []); // not checkpointed: the replay writes them
      pending.clear();
      return Promise.resolve();
    },
  };
}
