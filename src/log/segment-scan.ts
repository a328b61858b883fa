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

/** Called for each sound batch: its position, base offset, size in bytes, last offset and largest timestamp. */
export type BatchVisitor = (
  pos: number,
  baseOffset: number,
  size: number,
  lastOffset: number,
  maxTimestamp: number,
) => void;

/**
 * Why the batch at `pos` of `buf` (data up to `limit`) is not the sound batch expected at offset
 * `expected`, or null when it is: framing, magic, CRC, then offsets that follow on.
 */
export function batchProblemAt(
  buf: Buffer,
  pos: number,
  expected: number,
  limit = buf.length,
): string | null {
  const problem = batchProblem(buf, pos, limit);
  if (problem !== null) return problem;
  const base = readInt64BE(buf, pos);
  return base === expected ? null : `batch base offset is ${base}, expected ${expected}`;
}

/**
 * Walks the batches of `buf` from `pos` to `limit`, the first expected at offset `expected`:
 * calls `onBatch` for each sound one and stops at the first that is not (`problem` says why;
 * `end` is its position) or at `limit` (`problem` null).
 */
export function walkBatches(
  buf: Buffer,
  pos: number,
  limit: number,
  expected: number,
  onBatch: BatchVisitor,
): ScanResult {
  while (pos < limit) {
    const problem = batchProblemAt(buf, pos, expected, limit);
    if (problem !== null) return { end: pos, nextOffset: expected, problem };
    const size = buf.readInt32BE(pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
    const lastOffset = expected + buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA);
    onBatch(pos, expected, size, lastOffset, readInt64BE(buf, pos + OFF_MAX_TIMESTAMP));
    expected = lastOffset + 1;
    pos += size;
  }
  return { end: pos, nextOffset: expected, problem: null };
}

/**
 * Validates batches in `fd` from `fromPos` to `fileSize`, expecting the first to start at
 * `fromOffset`; calls `onBatch` for each valid one and stops at the first invalid one. Reads the
 * file in chunks and walks each with {@link walkBatches}; a batch cut by a chunk's end is read
 * again from its start.
 */
export function scanBatches(
  fd: number,
  fromPos: number,
  fileSize: number,
  fromOffset: number,
  onBatch: BatchVisitor,
): ScanResult {
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(fileSize - fromPos, BATCH_HEADER_SIZE)));
  let pos = fromPos;
  let expected = fromOffset;
  while (pos < fileSize) {
    const chunkStart = pos;
    let chunkLen: number;
    try {
      chunkLen = readFully(fd, buf, 0, Math.min(buf.length, fileSize - pos), pos);
    } catch (err) {
      throw ioError('reading a segment during recovery', err);
    }
    const r = walkBatches(buf, 0, chunkLen, expected, (p, base, size, last, maxTs) =>
      onBatch(chunkStart + p, base, size, last, maxTs),
    );
    pos = chunkStart + r.end;
    expected = r.nextOffset;
    if (r.problem === null) continue;
    // Cut by the chunk's end rather than damaged: read again from the batch (a bigger buffer
    // for a batch bigger than the chunk) when its header, or the whole of a plausible batch
    // that the file holds, lies past the chunk.
    const rel = r.end;
    if (rel + BATCH_HEADER_SIZE > chunkLen) {
      if (rel > 0) continue;
    } else {
      const size = buf.readInt32BE(rel + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
      if (size >= MIN_BATCH_LENGTH + LOG_OVERHEAD && rel + size > chunkLen && pos + size <= fileSize) {
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
        continue;
      }
    }
    return { end: pos, nextOffset: expected, problem: r.problem };
  }
  return { end: pos, nextOffset: expected, problem: null };
}
