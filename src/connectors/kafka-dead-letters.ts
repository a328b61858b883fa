import type { Producer } from '@platformatic/kafka';
import { checkCompression, type CompressionCodec } from '../log/index.js';
import type { DeadLetter, DeadLetterSink } from '../stream/index.js';
import { DLQ_KEY_ENV } from './dlq-auth.js';
import { deadLetterRecord } from './log-dead-letters.js';

/**
 * Writes dead letters to a Kafka topic, in the same layout as the embedded log's dead-letter
 * topics (original bytes; stage, reason, source and time in headers). Each write resolves once
 * the broker acknowledged it, so a checkpoint never runs ahead of its dead letters. With
 * SLUICE_DLQ_KEY set (or `opts.key`), each is signed as the embedded log's dead letters are.
 *
 * @example
 * pipeline.run({ deadLetters: kafkaDeadLetters(producer, 'fraud-dlq') });
 */
export function kafkaDeadLetters(
  producer: Producer,
  topic: string,
  opts: { key?: string; compression?: CompressionCodec } = {},
): DeadLetterSink {
  const secret = opts.key ?? process.env[DLQ_KEY_ENV];
  const key = secret ? Buffer.from(secret, 'utf8') : undefined;
  // Unset: the producer's own compression (the scale-out worker's `compression` option).
  const compression = opts.compression === undefined ? undefined : checkCompression(opts.compression);
  return {
    async write(items: DeadLetter[]) {
      if (items.length === 0) return;
      await producer.send({
        ...(compression === undefined ? {} : { compression }),
        messages: items.map((d) => {
          const r = deadLetterRecord(d, key);
          return {
            topic,
            value: r.value ?? undefined,
            timestamp: BigInt(r.timestamp ?? Date.now()),
            headers: new Map((r.headers ?? []).map((h) => [Buffer.from(h.key), h.value ?? Buffer.alloc(0)])),
          };
        }),
      });
    },
  };
}
