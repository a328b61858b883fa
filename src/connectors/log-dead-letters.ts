import { checkCompression, type CompressionCodec, type Log, type ProducerRecord } from '../log/index.js';
import type { DeadLetter, DeadLetterSink } from '../stream/index.js';

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

/** A dead letter as a record: the original bytes, and headers saying where, when and why. */
export function deadLetterRecord(d: DeadLetter): ProducerRecord {
  return {
    key: null,
    value: originalBytes(d.original),
    timestamp: d.time,
    headers: [
      { key: DLQ_HEADERS.stage, value: Buffer.from(d.stage) },
      { key: DLQ_HEADERS.reason, value: Buffer.from(d.reason) },
      { key: DLQ_HEADERS.source, value: Buffer.from(`${d.topic}/${d.partition}@${d.offset}`) },
      { key: DLQ_HEADERS.time, value: Buffer.from(new Date(d.time).toISOString()) },
    ],
  };
}

/**
 * Writes dead letters to a topic of the embedded log: the value is the original bytes, the
 * headers say which stage rejected it, why, where it came from and when, so it can be
 * inspected and replayed after a fix.
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
  return {
    write(items: DeadLetter[]) {
      const records: ProducerRecord[] = items.map(deadLetterRecord);
      part.append(records, undefined, compression);
    },
    flush() {
      part.flush();
    },
  };
}
