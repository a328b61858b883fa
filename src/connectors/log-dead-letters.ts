import {
  checkCompression,
  type CompressionCodec,
  type Log,
  type ProducerRecord,
  type RecordHeader,
} from '../log/index.js';
import type { DeadLetter, DeadLetterSink } from '../stream/index.js';
import { deadLetterKey, signDeadLetter } from './dlq-auth.js';

/** Header names of a dead-letter record (Kafka Connect uses a similar set). */
export const DLQ_HEADERS = {
  stage: 'sluice.dlq.stage',
  reason: 'sluice.dlq.reason',
  source: 'sluice.dlq.source',
  time: 'sluice.dlq.time',
} as const;

function originalBytes(original: unknown): Buffer | null {
  if (original === null || original === undefined) return null;
  if (Buffer.isBuffer(original)) return original;
  if (original instanceof Uint8Array) return Buffer.from(original);
  if (typeof original === 'string') return Buffer.from(original, 'utf8');
  try {
    return Buffer.from(JSON.stringify(original) ?? String(original), 'utf8');
  } catch {
    return Buffer.from(String(original), 'utf8');
  }
}

/**
 * A dead letter as a record: the original bytes, and headers saying where, when and why,
 * signed with `key` (see dlq-auth.ts) so that replay can tell it from a forged one.
 */
export function deadLetterRecord(d: DeadLetter, key?: Buffer): ProducerRecord {
  const value = originalBytes(d.original);
  const headers: RecordHeader[] = [
    { key: DLQ_HEADERS.stage, value: Buffer.from(d.stage) },
    { key: DLQ_HEADERS.reason, value: Buffer.from(d.reason) },
    { key: DLQ_HEADERS.source, value: Buffer.from(`${d.topic}/${d.partition}@${d.offset}`) },
    { key: DLQ_HEADERS.time, value: Buffer.from(new Date(d.time).toISOString()) },
  ];
  if (key) headers.push(signDeadLetter(key, value, headers));
  return { key: null, value, timestamp: d.time, headers };
}

/**
 * Writes dead letters to a topic of the embedded log: the value is the original bytes, the
 * headers say which stage rejected it, why, where it came from and when, so it can be
 * inspected and replayed after a fix. Each is signed with the log's dead-letter key
 * (SLUICE_DLQ_KEY, else `dlq.key` in the log directory): `sluice dlq replay` refuses records
 * that Sluice did not write.
 *
 * @example
 * pipeline.run({ deadLetters: logDeadLetters(log, 'fraud.dlq', { compression: 'lz4' }) });
 */
export function logDeadLetters(
  log: Log,
  topic: string,
  opts: { compression?: CompressionCodec } = {},
): DeadLetterSink {
  const compression = checkCompression(opts.compression ?? 'none');
  if (!log.hasTopic(topic)) log.createTopic(topic, { partitions: 1 });
  const part = log.partition(topic, 0);
  const key = deadLetterKey(log.dir);
  return {
    write(items: DeadLetter[]) {
      const records: ProducerRecord[] = items.map((d) => deadLetterRecord(d, key));
      part.append(records, undefined, compression);
    },
    flush() {
      part.flush();
    },
  };
}
