// Kafka RecordBatch v2 decoder (layout in batch-layout.ts). Keys and values are zero-copy
// subarrays of the input; records without headers share one frozen empty array.

import {
  ATTR_CODEC_MASK,
  ATTR_LOG_APPEND_TIME,
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
import { decompressRecords } from './compression.js';
import { LogError } from './errors.js';
import type { LogRecord, RecordBatch, RecordHeader } from './types.js';
import { Cursor, readInt64BE, readVarint, readVarlong } from './varint.js';

const EMPTY_HEADERS: readonly RecordHeader[] = Object.freeze([]);

function corrupt(baseOffset: number, what: string): LogError {
  return new LogError(
    'SLUICE_LOG_CORRUPT',
    `RecordBatch at offset ${baseOffset} is malformed: ${what}. The bytes were damaged or not written as RecordBatch v2; ` +
      'in a log on disk, "sluice log check --data DIR" lists the damaged batches and --repair sets them aside',
  );
}

/** Checks magic and length of the batch at `start`; returns the batch's end position. */
function checkFraming(buf: Buffer, start: number): number {
  if (start < 0 || start + BATCH_HEADER_SIZE > buf.length) {
    throw new LogError(
      'SLUICE_LOG_CORRUPT',
      `a RecordBatch needs at least ${BATCH_HEADER_SIZE} bytes at position ${start} but the buffer has ${buf.length}`,
    );
  }
  const baseOffset = readInt64BE(buf, start + OFF_BASE_OFFSET);
  const magic = buf.readInt8(start + OFF_MAGIC);
  if (magic !== CURRENT_MAGIC) {
    throw new LogError(
      'SLUICE_LOG_UNSUPPORTED_MAGIC',
      `RecordBatch at offset ${baseOffset} has magic ${magic}; only magic 2 (Kafka >= 0.11) is supported: upgrade the producer`,
    );
  }
  const batchLength = buf.readInt32BE(start + OFF_BATCH_LENGTH);
  const end = start + LOG_OVERHEAD + batchLength;
  if (batchLength < MIN_BATCH_LENGTH || end > buf.length) {
    throw corrupt(
      baseOffset,
      `batchLength ${batchLength} does not fit the ${buf.length - start} bytes available`,
    );
  }
  return end;
}

/**
 * Decodes the records of the batch at `start` (decompressing them first when the batch is
 * compressed), appending those with `offset >= fromOffset` to `out` (earlier ones are skipped
 * without allocating). Returns the position just after the batch. Does not check the CRC.
 */
export function decodeRecordsInto(buf: Buffer, start: number, out: LogRecord[], fromOffset = 0): number {
  const end = checkFraming(buf, start);
  const baseOffset = readInt64BE(buf, start + OFF_BASE_OFFSET);
  const attributes = buf.readInt16BE(start + OFF_ATTRIBUTES);
  const count = buf.readInt32BE(start + OFF_RECORD_COUNT);
  const codec = attributes & ATTR_CODEC_MASK;
  // Bound every varint read by the records' end, not by the (possibly larger) buffer.
  let view = end === buf.length ? buf : buf.subarray(0, end);
  let pos = start + BATCH_HEADER_SIZE;
  if (codec !== 0) {
    const where = `RecordBatch at offset ${baseOffset}`;
    view = decompressRecords(codec, buf.subarray(pos, end), where);
    pos = 0;
  }
  if (count < 0 || count > view.length - pos)
    throw corrupt(baseOffset, `record count ${count} is impossible`);
  decodeRecords(view, pos, count, {
    baseOffset,
    logAppendTime: (attributes & ATTR_LOG_APPEND_TIME) !== 0,
    baseTimestamp: readInt64BE(buf, start + OFF_BASE_TIMESTAMP),
    maxTimestamp: readInt64BE(buf, start + OFF_MAX_TIMESTAMP),
    fromOffset,
    out,
  });
  return end;
}

interface RecordsContext {
  baseOffset: number;
  logAppendTime: boolean;
  baseTimestamp: number;
  maxTimestamp: number;
  fromOffset: number;
  out: LogRecord[];
}

/** Decodes `count` records from `view[pos, view.length)`, which they must fill exactly. */
function decodeRecords(view: Buffer, pos: number, count: number, ctx: RecordsContext): void {
  const { baseOffset, logAppendTime, baseTimestamp, maxTimestamp, fromOffset, out } = ctx;
  const end = view.length;
  const cur = new Cursor(pos);

  for (let i = 0; i < count; i++) {
    const length = readVarint(view, cur);
    const recordEnd = cur.pos + length;
    if (length < 0 || recordEnd > end)
      throw corrupt(baseOffset, `record ${i} length ${length} runs past the batch`);
    cur.pos++; // record attributes: unused
    const timestampDelta = readVarlong(view, cur);
    const offset = baseOffset + readVarint(view, cur);
    if (offset < fromOffset) {
      cur.pos = recordEnd;
      continue;
    }
    const key = readBytes(view, cur, recordEnd, baseOffset);
    const value = readBytes(view, cur, recordEnd, baseOffset);
    const headerCount = readVarint(view, cur);
    let headers = EMPTY_HEADERS;
    if (headerCount !== 0) {
      if (headerCount < 0 || headerCount > recordEnd - cur.pos) {
        throw corrupt(baseOffset, `record ${i} has header count ${headerCount}`);
      }
      const list: RecordHeader[] = new Array(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const keyLength = readVarint(view, cur);
        if (keyLength < 0 || cur.pos + keyLength > recordEnd)
          throw corrupt(baseOffset, `record ${i} header key length ${keyLength}`);
        const headerKey = view.toString('utf8', cur.pos, cur.pos + keyLength);
        cur.pos += keyLength;
        list[h] = { key: headerKey, value: readBytes(view, cur, recordEnd, baseOffset) };
      }
      headers = list;
    }
    if (cur.pos !== recordEnd)
      throw corrupt(baseOffset, `record ${i} fields do not add up to its length ${length}`);
    out.push({
      offset,
      timestamp: logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (cur.pos !== end) throw corrupt(baseOffset, `${end - cur.pos} bytes left over after ${count} records`);
}

function readBytes(buf: Buffer, cur: Cursor, recordEnd: number, baseOffset: number): Buffer | null {
  const length = readVarint(buf, cur);
  if (length < 0) return null;
  const start = cur.pos;
  const end = start + length;
  if (end > recordEnd) throw corrupt(baseOffset, `a key or value of ${length} bytes runs past its record`);
  cur.pos = end;
  return buf.subarray(start, end);
}

/**
 * Decodes the whole batch at `start` (header and records). Does not check the CRC: call
 * {@link verifyBatchCrc} first for bytes you do not trust.
 *
 * @example
 * const { baseOffset, records } = decodeRecordBatch(encodeRecordBatch([{ value: Buffer.from('x') }], 7));
 * // baseOffset === 7, records[0].offset === 7
 */
export function decodeRecordBatch(buf: Buffer, start = 0): RecordBatch {
  const records: LogRecord[] = [];
  decodeRecordsInto(buf, start, records, -Infinity);
  return {
    baseOffset: readInt64BE(buf, start + OFF_BASE_OFFSET),
    batchLength: buf.readInt32BE(start + OFF_BATCH_LENGTH),
    partitionLeaderEpoch: buf.readInt32BE(start + OFF_LEADER_EPOCH),
    magic: buf.readInt8(start + OFF_MAGIC),
    crc: buf.readUInt32BE(start + OFF_CRC),
    attributes: buf.readInt16BE(start + OFF_ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(start + OFF_LAST_OFFSET_DELTA),
    baseTimestamp: readInt64BE(buf, start + OFF_BASE_TIMESTAMP),
    maxTimestamp: readInt64BE(buf, start + OFF_MAX_TIMESTAMP),
    producerId: readInt64BE(buf, start + OFF_PRODUCER_ID),
    producerEpoch: buf.readInt16BE(start + OFF_PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(start + OFF_BASE_SEQUENCE),
    recordCount: buf.readInt32BE(start + OFF_RECORD_COUNT),
    records,
  };
}
