/**
 * `sluice/log`: the embedded durable log — topics of partitions of Kafka RecordBatch v2
 * segments, committed offsets, the damage check, the record-batch codecs and compression.
 *
 * @example
 * import { Log, checkLog } from 'sluice/log';
 * const log = Log.open('./data/log', { fsync: 'interval' });
 * log.createTopic('transactions', { partitions: 3 });
 * log.partition('transactions', 0).append([{ key: null, value: Buffer.from('{"amount":12.5}') }]);
 * const report = checkLog('./data/log'); // report.damage: [] on a sound log
 */
export { Log, type LogOptions } from './log.js';
export type { TopicConfig } from './topic-configs.js';
export {
  Partition,
  type AppendResult,
  type FsyncPolicy,
  type PartitionOptions,
  type ReadResult,
} from './partition.js';
export { OffsetStore, type CommittedOffset, type OffsetCommit } from './offset-store.js';
export { LogError, LogOffsetOutOfRangeError, LOG_ERROR_CODES, type LogErrorCode } from './errors.js';
export { crc32c } from '../core/crc32c.js';
export { checkLog, QUARANTINE_DIR, type LogCheckReport, type LogDamage } from './check.js';
export {
  encodeRecordBatch,
  readBatchHeader,
  verifyBatchCrc,
  type EncodeBatchOptions,
} from './record-batch.js';
export { decodeRecordBatch } from './record-batch-decode.js';
export {
  checkCompression,
  compressRecords,
  decompressRecords,
  zstdWritable,
  type CompressionCodec,
} from './compression.js';
export { validateProducerBatch } from './batch-validate.js';
export { CONTROL_ABORT, CONTROL_COMMIT, encodeControlBatch, type TxnMarker } from './control-batch.js';
export type {
  BatchHeader,
  BatchHeaderSummary,
  LogRecord,
  ProducerRecord,
  RecordBatch,
  RecordHeader,
} from './types.js';
