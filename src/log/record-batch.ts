// Kafka RecordBatch v2 encoder and header reading / validation (layout in batch-layout.ts).
// Encoding computes every size first and writes into one exactly-sized Buffer.

import {
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  OFF_ATTRIBUTES,
  OFF_BASE_OFFSET,
  OFF_BASE_SEQUENCE,
  OFF_BASE_TIMESTAMP,
  OFF_BATCH_LENGTH,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_LEADER_EPOCH,
  OFF_MAGIC,
  OFF_MAX_TIMESTAMP,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  OFF_RECORD_COUNT,
} from './batch-layout.js';
import { codecId, compressRecords, type CompressionCodec } from './compression.js';
import { crc32c } from '../core/crc32c.js';
import { LogError } from './errors.js';
import type { BatchHeaderSummary, ProducerRecord } from './types.js';
import {
  readInt64BE,
  sizeOfVarint,
  sizeOfVarlong,
  writeInt64BE,
  writeVarint,
  writeVarlong,
} from './varint.js';

/** Options of {@link encodeRecordBatch}; the defaults are what a non-idempotent producer sends. */
export interface EncodeBatchOptions {
  /** Timestamp for records that have none (ms since epoch). Default: `Date.now()`. */
  timestamp?: number;
  /** Default -1 (a producer's value; the log stores 0). */
  partitionLeaderEpoch?: number;
  /** Default -1 (no idempotent producer). */
  producerId?: number;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1. */
  baseSequence?: number;
  /** Codec of the records section. Default 'none'. */
  compression?: CompressionCodec;
}

// Record body sizes from the sizing pass, reused by the writing pass; grown on demand, never
// shrunk, so steady-state encoding allocates only the output Buffer.
let bodySizes = new Int32Array(1024);

function bytesSize(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : sizeOfVarint(b.length) + b.length;
}

function writeBytes(out: Buffer, pos: number, b: Uint8Array | null | undefined): number {
  if (b == null) return writeVarint(out, pos, -1);
  pos = writeVarint(out, pos, b.length);
  out.set(b, pos);
  return pos + b.length;
}

function checkTimestamp(ts: number, i: number): number {
  if (!Number.isSafeInteger(ts)) {
    throw new LogError(
      'SLUICE_LOG_INVALID_ARGUMENT',
      `record ${i} has timestamp ${ts}; use integer milliseconds since the epoch`,
    );
  }
  return ts;
}

/**
 * Encodes records as one Kafka RecordBatch v2 whose first record gets `baseOffset`, its records
 * compressed with `opts.compression` (default none).
 *
 * @example
 * const batch = encodeRecordBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }], 0, { compression: 'gzip' });
 * decodeRecordBatch(batch).records[0].value?.toString(); // 'v'
 */
export function encodeRecordBatch(
  records: readonly ProducerRecord[],
  baseOffset: number,
  opts: EncodeBatchOptions = {},
): Buffer {
  const n = records.length;
  if (n === 0)
    throw new LogError(
      'SLUICE_LOG_INVALID_ARGUMENT',
      'cannot encode an empty batch: pass at least one record',
    );
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new LogError(
      'SLUICE_LOG_INVALID_ARGUMENT',
      `baseOffset ${baseOffset} must be a non-negative safe integer`,
    );
  }
  const now = opts.timestamp ?? Date.now();
  const baseTimestamp = checkTimestamp(records[0].timestamp ?? now, 0);
  let maxTimestamp = baseTimestamp;
  if (bodySizes.length < n) bodySizes = new Int32Array(Math.max(n, bodySizes.length * 2));

  let total = BATCH_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const ts = checkTimestamp(r.timestamp ?? now, i);
    if (ts > maxTimestamp) maxTimestamp = ts;
    let body =
      1 + sizeOfVarlong(ts - baseTimestamp) + sizeOfVarint(i) + bytesSize(r.key) + bytesSize(r.value);
    const headers = r.headers;
    const hn = headers === undefined ? 0 : headers.length;
    body += sizeOfVarint(hn);
    for (let h = 0; h < hn; h++) {
      const header = headers![h];
      const klen = Buffer.byteLength(header.key, 'utf8');
      body += sizeOfVarint(klen) + klen + bytesSize(header.value);
    }
    bodySizes[i] = body;
    total += sizeOfVarint(body) + body;
  }

  const out = Buffer.allocUnsafe(total);
  writeInt64BE(out, baseOffset, OFF_BASE_OFFSET);
  out.writeInt32BE(total - LOG_OVERHEAD, OFF_BATCH_LENGTH);
  out.writeInt32BE(opts.partitionLeaderEpoch ?? -1, OFF_LEADER_EPOCH);
  out.writeInt8(CURRENT_MAGIC, OFF_MAGIC);
  out.writeInt16BE(0, OFF_ATTRIBUTES); // codec none, CreateTime, not transactional, not control
  out.writeInt32BE(n - 1, OFF_LAST_OFFSET_DELTA);
  writeInt64BE(out, baseTimestamp, OFF_BASE_TIMESTAMP);
  writeInt64BE(out, maxTimestamp, OFF_MAX_TIMESTAMP);
  writeInt64BE(out, opts.producerId ?? -1, OFF_PRODUCER_ID);
  out.writeInt16BE(opts.producerEpoch ?? -1, OFF_PRODUCER_EPOCH);
  out.writeInt32BE(opts.baseSequence ?? -1, OFF_BASE_SEQUENCE);
  out.writeInt32BE(n, OFF_RECORD_COUNT);

  let pos = BATCH_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    pos = writeVarint(out, pos, bodySizes[i]);
    out[pos++] = 0; // record attributes: unused by Kafka
    pos = writeVarlong(out, pos, (r.timestamp ?? now) - baseTimestamp);
    pos = writeVarint(out, pos, i);
    pos = writeBytes(out, pos, r.key);
    pos = writeBytes(out, pos, r.value);
    const headers = r.headers;
    const hn = headers === undefined ? 0 : headers.length;
    pos = writeVarint(out, pos, hn);
    for (let h = 0; h < hn; h++) {
      const header = headers![h];
      const klen = Buffer.byteLength(header.key, 'utf8');
      pos = writeVarint(out, pos, klen);
      pos += out.write(header.key, pos, klen, 'utf8');
      pos = writeBytes(out, pos, header.value);
    }
  }
  if (opts.compression !== undefined && opts.compression !== 'none')
    return compressBatch(out, opts.compression);
  out.writeUInt32BE(crc32c(out, OFF_ATTRIBUTES, total), OFF_CRC);
  return out;
}

/** Replaces the records section of the uncompressed batch `plain` by its `codec` compression. */
function compressBatch(plain: Buffer, codec: CompressionCodec): Buffer {
  const packed = compressRecords(codec, plain.subarray(BATCH_HEADER_SIZE));
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length);
  plain.copy(out, 0, 0, BATCH_HEADER_SIZE);
  packed.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, OFF_BATCH_LENGTH);
  out.writeInt16BE(codecId(codec), OFF_ATTRIBUTES); // the codec bits; CreateTime, not transactional
  out.writeUInt32BE(crc32c(out, OFF_ATTRIBUTES, out.length), OFF_CRC);
  return out;
}

/**
 * Reads the fields of the batch header at `pos` that a log needs to place and serve a batch,
 * without touching its records. Needs 61 bytes at `pos`; checks nothing else.
 */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeaderSummary {
  if (pos < 0 || pos + BATCH_HEADER_SIZE > buf.length) {
    throw new LogError(
      'SLUICE_LOG_CORRUPT',
      `a RecordBatch header needs ${BATCH_HEADER_SIZE} bytes at position ${pos} but the buffer has ${buf.length}; the data is truncated`,
    );
  }
  return {
    baseOffset: readInt64BE(buf, pos + OFF_BASE_OFFSET),
    batchLength: buf.readInt32BE(pos + OFF_BATCH_LENGTH),
    magic: buf.readInt8(pos + OFF_MAGIC),
    crc: buf.readUInt32BE(pos + OFF_CRC),
    attributes: buf.readInt16BE(pos + OFF_ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA),
    maxTimestamp: readInt64BE(buf, pos + OFF_MAX_TIMESTAMP),
    recordCount: buf.readInt32BE(pos + OFF_RECORD_COUNT),
  };
}

/** True when the batch at `pos` lies wholly inside `buf` and its CRC-32C matches. */
export function verifyBatchCrc(buf: Buffer, pos = 0): boolean {
  if (pos < 0 || pos + BATCH_HEADER_SIZE > buf.length) return false;
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + OFF_BATCH_LENGTH);
  if (end < pos + BATCH_HEADER_SIZE || end > buf.length) return false;
  return crc32c(buf, pos + OFF_ATTRIBUTES, end) === buf.readUInt32BE(pos + OFF_CRC);
}

/**
 * Checks the framing of the batch at `pos` within `buf[pos, limit)`: whole header, sane length
 * that fits, magic 2, non-negative counts, then the CRC. Returns null when sound, otherwise why
 * not (a string, so recovery can scan without throwing).
 */
export function batchProblem(buf: Buffer, pos: number, limit = buf.length): string | null {
  if (pos + BATCH_HEADER_SIZE > limit)
    return `only ${limit - pos} bytes left, less than a ${BATCH_HEADER_SIZE}-byte batch header`;
  const batchLength = buf.readInt32BE(pos + OFF_BATCH_LENGTH);
  if (batchLength < MIN_BATCH_LENGTH)
    return `batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`;
  if (pos + LOG_OVERHEAD + batchLength > limit) {
    return `batchLength ${batchLength} runs past the end of the data (${limit - pos - LOG_OVERHEAD} bytes left)`;
  }
  const magic = buf.readInt8(pos + OFF_MAGIC);
  if (magic !== CURRENT_MAGIC) return `magic byte is ${magic}, expected ${CURRENT_MAGIC}`;
  if (buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) < 0) return 'lastOffsetDelta is negative';
  if (buf.readInt32BE(pos + OFF_RECORD_COUNT) < 0) return 'record count is negative';
  if (!verifyBatchCrc(buf, pos)) return 'CRC-32C does not match the batch contents';
  return null;
}
