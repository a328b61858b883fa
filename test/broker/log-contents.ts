// What a broker's log really holds, read straight from the partitions (not through a client):
// the stored batches' codecs, and the decoded records.

import type { Log } from '../../src/log/index.js';
import {
  LOG_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
} from '../../src/log/batch-layout.js';
import { readInt64BE } from '../../src/log/varint.js';

/** Kafka's codec ids (the low 3 bits of a RecordBatch's attributes). */
export const CODEC_ID: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Codec id and first payload bytes of every stored batch of the topic's partitions. */
export function storedBatches(log: Log, topic: string): { codec: number; head: string; records: number }[] {
  const out: { codec: number; head: string; records: number }[] = [];
  for (let p = 0; p < log.partitionCount(topic); p++) {
    const part = log.partition(topic, p);
    for (let next = 0; next < part.highWatermark;) {
      const data = part.readBatches(next, 1 << 20);
      for (let pos = 0; pos < data.length; pos += LOG_OVERHEAD + data.readInt32BE(pos + OFF_BATCH_LENGTH)) {
        out.push({
          codec: data.readInt16BE(pos + OFF_ATTRIBUTES) & 7,
          head: data.toString('hex', pos + 61, pos + 69),
          records: data.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) + 1,
        });
        next = readInt64BE(data, pos) + data.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) + 1;
      }
    }
  }
  return out;
}

/** A record as the interop tests compare them: strings, headers in order. */
export interface PlainRecord {
  p: number;
  k: string;
  v: string;
  h: [string, string][];
}

/** Every record of the topic, partition by partition in offset order, decompressed. */
export function logRecords(log: Log, topic: string): PlainRecord[] {
  const out: PlainRecord[] = [];
  for (let p = 0; p < log.partitionCount(topic); p++) {
    const part = log.partition(topic, p);
    for (let next = 0; next < part.highWatermark;) {
      const r = part.read(next, 1 << 20);
      for (const rec of r.records) {
        out.push({
          p,
          k: rec.key?.toString() ?? '',
          v: rec.value?.toString() ?? '',
          h: rec.headers.map((h) => [h.key, h.value?.toString() ?? '']),
        });
      }
      next = r.nextOffset;
    }
  }
  return out;
}
