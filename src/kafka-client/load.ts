// Loads @platformatic/kafka on first use (it costs ~0.5 s to import, which every CLI start would
// pay) and plugs our record-batch codecs into it once, so every Sluice Kafka client reads what
// Kafka producers write: zstd on Node versions without node:zlib's zstd (the client's own codec
// needs Node >= 22.15) and kafka-python's xerial-framed snappy (the client decodes raw snappy
// only). The client keeps its own encoders; zstd writing still needs Node >= 22.15.

import type { CompressionAlgorithmSpecification } from '@platformatic/kafka';
import { decompressRecords } from '../log/index.js';

type KafkaModule = typeof import('@platformatic/kafka');

let loaded: Promise<KafkaModule> | undefined;

/** Codec ids of the codecs whose decoder is replaced by the log's (gzip stays node:zlib's). */
const REPLACED = { snappy: 2, lz4: 3, zstd: 4 } as const;

/**
 * Replaces the decoders of snappy, lz4 and zstd in the client's codec table by the log's (the
 * table is the client's exported `compressionsAlgorithms`; its by-bitmask index shares the same
 * objects). A payload that does not decode throws a LogError naming the codec.
 */
export function installKafkaCodecs(kafka: KafkaModule): void {
  for (const [name, id] of Object.entries(REPLACED)) {
    // The table is typed read-only but is a plain object the client looks codecs up in per batch.
    const algorithm = kafka.compressionsAlgorithms[
      name as keyof typeof REPLACED
    ] as CompressionAlgorithmSpecification;
    algorithm.decompressSync = (data) =>
      decompressRecords(id, Buffer.isBuffer(data) ? data : data.buffer, 'a Kafka RecordBatch');
  }
}

/**
 * The Kafka client module with our codecs installed.
 *
 * @example
 * const { Producer } = await loadKafkaClient();
 */
export function loadKafkaClient(): Promise<KafkaModule> {
  loaded ??= import('@platformatic/kafka').then((kafka) => {
    installKafkaCodecs(kafka);
    return kafka;
  });
  return loaded;
}
