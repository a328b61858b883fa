// Walks the batches of a segment file, validating each one (framing, magic, CRC, offsets that
// follow on from the previous batch), for recovery and index rebuilds.

import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
  OFF_MAX_TIMESTAMP,
} from './batch-layout.js';
import { ioError, readFully } from './fs-util.js';
import { batchProblem } from './record-batch.js';
import { readInt64BE } from './varint.js';

const CHUNK = 1 << 20;

export interface ScanResult {
  /** File position after the last valid batch. */
  end: number;
  /** Offset after the last valid batch. */
  nextOffset: number;
  /** Why scanning stopped before the end of the file, or null when it reached it. */
  problem: string | null;
}

/**
 * Validates batches in `fd` from `fromPos` to `fileSize`, expecting the first to start at
 * `fromOffset`; calls `onBatch` for each valid one and stops at the first invalid one.
 */
export function scanBatches(
  fd: number,
  fromPos: number,
  fileSize: number,
  fromOffset: number,
  onBatch: (pos: number, baseOffset: number, size: number, lastOffset: number, maxTimestamp: number) => void,
): ScanResult {
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(fileSize - fromPos, BATCH_HEADER_SIZE)));
  let bufStart = fromPos;
  let bufLen = 0;
  let pos = fromPos;
  let expected = fromOffset;
  const fill = (at: number): void => {
    try {
      bufLen = readFully(fd, buf, 0, Math.min(buf.length, fileSize - at), at);
    } catch (err) {
      throw ioError('reading a segment during recovery', err);
    }
    bufStart = at;
  };
  while (pos < fileSize) {
    if (pos - bufStart + BATCH_HEADER_SIZE > bufLen) fill(pos);
    let rel = pos - bufStart;
    if (rel + BATCH_HEADER_SIZE <= bufLen) {
      const size = buf.readInt32BE(rel + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
      if (size >= MIN_BATCH_LENGTH + LOG_OVERHEAD && rel + size > bufLen && pos + size <= fileSize) {
        if (size > buf.length) buf = Buffer.allocUnsafe(size); // a batch bigger than the chunk
        fill(pos);
        rel = 0;
      }
    }
    const problem = batchProblem(buf, rel, bufLen);
    if (problem !== null) return { end: pos, nextOffset: expected, problem };
    const baseOffset = readInt64BE(buf, rel);
    if (baseOffset !== expected) {
      return {
        end: pos,
        nextOffset: expected,
        problem: `batch base offset is ${baseOffset}, expected ${expected}`,
      };
    }
    const size = buf.readInt32BE(rel + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
    const lastOffset = baseOffset + buf.readInt32BE(rel + OFF_LAST_OFFSET_DELTA);
    onBatch(pos, baseOffset, size, lastOffset, readInt64BE(buf, rel + OFF_MAX_TIMESTAMP));
    expected = lastOffset + 1;
    pos += size;
  }
  return { end: pos, nextOffset: expected, problem: null };
}
