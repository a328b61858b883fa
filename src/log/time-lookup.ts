// Finding an offset by timestamp (what Kafka's ListOffsets asks) within one segment.

import { ATTR_CODEC_MASK, OFF_ATTRIBUTES, OFF_LAST_OFFSET_DELTA, OFF_MAX_TIMESTAMP } from './batch-layout.js';
import { verifyBatchCrc } from './record-batch.js';
import { decodeRecordsInto } from './record-batch-decode.js';
import type { Segment } from './segment.js';
import type { LogRecord } from './types.js';
import { readInt64BE } from './varint.js';

/** Offset of the first record in `seg` with timestamp >= `timestamp`, or undefined if none is there. */
export function findOffsetByTimestamp(seg: Segment, timestamp: number): number | undefined {
  seg.ensureIndexed();
  if (seg.maxTimestamp < timestamp) return undefined;
  // Every record before this offset is older than `timestamp` (the time index's invariant).
  let offset = seg.timeIndex.startOffsetFor(timestamp);
  while (offset < seg.nextOffset) {
    const data = seg.readBatches(offset, 0); // maxBytes 0: exactly one batch
    if (data === null) return undefined;
    const base = readInt64BE(data, 0);
    if (readInt64BE(data, OFF_MAX_TIMESTAMP) >= timestamp) {
      // Damaged (CRC mismatch): the records cannot be looked at, the batch's start is the answer.
      if (!verifyBatchCrc(data)) return base;
      const records: LogRecord[] = [];
      try {
        decodeRecordsInto(data, 0, records, offset); // decompresses a compressed batch
      } catch (err) {
        // A compressed batch that does not decode: its base offset is still a safe answer
        // (readers then get the decode error with its offset).
        if ((data.readInt16BE(OFF_ATTRIBUTES) & ATTR_CODEC_MASK) !== 0) return base;
        throw err;
      }
      for (const r of records) if (r.timestamp >= timestamp) return r.offset;
    }
    offset = base + data.readInt32BE(OFF_LAST_OFFSET_DELTA) + 1;
  }
  return undefined;
}
