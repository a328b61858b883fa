// Validation of a RecordBatch handed in by a producer, as a Kafka broker does it on produce:
// framing, magic, CRC, one whole batch, no control batch, a known codec, dense offsets.
// Nothing is decompressed.

import {
  ATTR_CODEC_MASK,
  ATTR_CONTROL,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
  OFF_MAGIC,
  OFF_RECORD_COUNT,
} from './batch-layout.js';
import { LogError } from './errors.js';
import { batchProblem } from './record-batch.js';

/** Throws a LogError saying what is wrong with `buf` as a producer's batch; returns its lastOffsetDelta. */
export function validateProducerBatch(buf: Buffer, where: string): number {
  if (buf.length > OFF_MAGIC && buf.readInt8(OFF_MAGIC) !== CURRENT_MAGIC) {
    throw new LogError(
      'SLUICE_LOG_UNSUPPORTED_MAGIC',
      `batch for ${where} has magic ${buf.readInt8(OFF_MAGIC)}; only RecordBatch v2 (magic 2) is stored: upgrade the producer`,
    );
  }
  const problem = batchProblem(buf, 0);
  if (problem !== null) {
    throw new LogError(
      'SLUICE_LOG_CORRUPT',
      `rejected a corrupt batch for ${where}: ${problem}; the producer should resend it`,
    );
  }
  const size = buf.readInt32BE(OFF_BATCH_LENGTH) + LOG_OVERHEAD;
  if (size !== buf.length) {
    throw new LogError(
      'SLUICE_LOG_INVALID_BATCH',
      `buffer holds ${buf.length} bytes but its first batch is ${size}; pass exactly one batch per call`,
    );
  }
  const attributes = buf.readInt16BE(OFF_ATTRIBUTES);
  if ((attributes & ATTR_CONTROL) !== 0) {
    throw new LogError(
      'SLUICE_LOG_INVALID_BATCH',
      'control batches are written by the log itself, never by producers',
    );
  }
  if ((attributes & ATTR_CODEC_MASK) > 4) {
    throw new LogError(
      'SLUICE_LOG_UNSUPPORTED_COMPRESSION',
      `unknown compression codec ${attributes & ATTR_CODEC_MASK}; use none, gzip, snappy, lz4 or zstd`,
    );
  }
  const lastOffsetDelta = buf.readInt32BE(OFF_LAST_OFFSET_DELTA);
  const count = buf.readInt32BE(OFF_RECORD_COUNT);
  if (count !== lastOffsetDelta + 1) {
    throw new LogError(
      'SLUICE_LOG_INVALID_BATCH',
      `batch has ${count} records but lastOffsetDelta ${lastOffsetDelta}; a producer batch needs count = lastOffsetDelta + 1`,
    );
  }
  return lastOffsetDelta;
}
