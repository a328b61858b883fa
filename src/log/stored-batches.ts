// Reading a partition's stored batches back: each batch's CRC-32C is checked over the raw
// stored bytes before anything uses it, and every error names the partition and its offsets.

import { dirname } from 'node:path';
import {
  ATTR_CONTROL,
  LOG_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
} from './batch-layout.js';
import { LogError } from './errors.js';
import { verifyBatchCrc } from './record-batch.js';
import { decodeRecordsInto } from './record-batch-decode.js';
import type { LogRecord } from './types.js';
import { readInt64BE } from './varint.js';

/** Records read from a partition and the offset to read next. */
export interface ReadResult {
  records: LogRecord[];
  nextOffset: number;
}

/** The partition the bytes came from, for messages: its name (`orders-0`) and directory. */
export interface StoredAt {
  readonly name: string;
  readonly dir: string;
}

/**
 * The records of whole stored batches (`data`, as Partition.readBatches returns them) from
 * `offset` on, skipping the records of the first batch that precede it and control batches.
 * Every batch's CRC-32C is checked before it is decoded: a damaged batch throws SLUICE_LOG_CORRUPT
 * and none of its records are returned.
 */
export function decodeStoredBatches(data: Buffer, offset: number, at: StoredAt): ReadResult {
  const records: LogRecord[] = [];
  let nextOffset = offset;
  let pos = 0;
  while (pos < data.length) {
    // Once per batch over the raw stored bytes (before any decompression), as Kafka's
    // consumers do with check.crcs: ~1 GB/s, a small share of decoding's cost.
    if (!verifyBatchCrc(data, pos)) throw damagedBatchError(data, pos, at);
    nextOffset = readInt64BE(data, pos) + data.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) + 1;
    if ((data.readInt16BE(pos + OFF_ATTRIBUTES) & ATTR_CONTROL) === 0)
      pos = decodeInto(data, pos, records, offset, at);
    else pos += data.readInt32BE(pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
  }
  return { records, nextOffset };
}

/**
 * `data` cut before its first damaged batch (what the broker serves), and SLUICE_LOG_CORRUPT when
 * the first batch itself is damaged, so a damaged batch is never served and a consumer stops at
 * it with a clear error.
 */
export function soundPrefix(data: Buffer, at: StoredAt): Buffer {
  let pos = 0;
  while (pos < data.length) {
    if (!verifyBatchCrc(data, pos)) {
      if (pos === 0) throw damagedBatchError(data, 0, at);
      return data.subarray(0, pos);
    }
    pos += data.readInt32BE(pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
  }
  return data;
}

/** decodeRecordsInto, its errors naming the partition (a batch that does not decode). */
function decodeInto(data: Buffer, pos: number, records: LogRecord[], offset: number, at: StoredAt): number {
  try {
    return decodeRecordsInto(data, pos, records, offset);
  } catch (err) {
    if (!(err instanceof LogError)) throw err;
    throw new LogError(err.code, `partition ${at.name}: ${err.message}`, { cause: err });
  }
}

function damagedBatchError(data: Buffer, pos: number, at: StoredAt): LogError {
  const base = readInt64BE(data, pos);
  const last = base + data.readInt32BE(pos + OFF_LAST_OFFSET_DELTA);
  return new LogError(
    'SLUICE_LOG_CORRUPT',
    `partition ${at.name}: the stored batch holding offsets ${base}..${last} fails its CRC-32C check, so its ` +
      'bytes changed after they were written (disk damage or an edit); none of its records were used. ' +
      `Stop what uses the log, then run "sluice log check --data ${dirname(at.dir)}" to list the damage and ` +
      'add --repair to set the damaged batches aside (their offsets are then skipped)',
  );
}
