// Finding every damaged range in a segment's bytes, not just the first one: recovery stops at the
// first bad batch (a torn tail), whereas `sluice log check` must tell damage in the middle of a
// file (a changed byte, a bad sector) from a torn tail, and find where sound batches resume.

import {
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  OFF_ATTRIBUTES,
  OFF_BASE_TIMESTAMP,
  OFF_BATCH_LENGTH,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_LEADER_EPOCH,
  OFF_MAGIC,
  OFF_MAX_TIMESTAMP,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  OFF_BASE_SEQUENCE,
  OFF_RECORD_COUNT,
} from './batch-layout.js';
import { crc32c } from '../core/crc32c.js';
import { batchProblem } from './record-batch.js';
import { batchProblemAt, walkBatches } from './segment-scan.js';
import { readInt64BE, writeInt64BE } from './varint.js';

/** One damaged range of a segment file. */
export interface DamagedRange {
  /** File position where the damage starts. */
  position: number;
  /** Length of the damaged range in bytes. */
  bytes: number;
  /** The first offset the range should hold. */
  fromOffset: number;
  /** Offset of the next sound batch; null when the damage runs to the end of the file. */
  toOffset: number | null;
  reason: string;
  /** Largest timestamp of the sound batch before the range (0 when none), for a placeholder. */
  prevMaxTimestamp: number;
}

/** What {@link checkSegmentBytes} found. */
export interface SegmentCheck {
  /** Sound batches. */
  batches: number;
  /** Offset after the last sound batch. */
  nextOffset: number;
  damage: DamagedRange[];
}

/**
 * The position of the first sound batch at or after `from` whose base offset is at least
 * `minOffset` and which is followed by the end of the data or by another sound batch that
 * continues its offsets (two in a row make a false match inside damaged bytes very unlikely);
 * -1 when there is none.
 */
export function nextSoundBatch(buf: Buffer, from: number, minOffset: number): number {
  for (let q = from; q + BATCH_HEADER_SIZE <= buf.length; q++) {
    // Cheap checks first: only candidates with a plausible header pay for a CRC.
    if (buf[q + OFF_MAGIC] !== CURRENT_MAGIC) continue;
    const length = buf.readInt32BE(q + OFF_BATCH_LENGTH);
    if (length < MIN_BATCH_LENGTH || q + LOG_OVERHEAD + length > buf.length) continue;
    const base = readInt64BE(buf, q);
    if (base < minOffset || base - minOffset > 0x7fffffff) continue;
    if (batchProblem(buf, q) !== null) continue;
    const next = q + LOG_OVERHEAD + length;
    const last = base + buf.readInt32BE(q + OFF_LAST_OFFSET_DELTA);
    if (next === buf.length || batchProblemAt(buf, next, last + 1) === null) return q;
  }
  return -1;
}

/**
 * Walks every batch of a segment's bytes (`baseOffset`: the segment's first offset) and returns
 * the sound batches' count and each damaged range, resuming after each at the next sound batch.
 */
export function checkSegmentBytes(buf: Buffer, baseOffset: number): SegmentCheck {
  const damage: DamagedRange[] = [];
  let pos = 0;
  let expected = baseOffset;
  let batches = 0;
  let prevMaxTimestamp = 0;
  while (pos < buf.length) {
    const sound = walkBatches(buf, pos, buf.length, expected, (_p, _b, _s, _l, maxTimestamp) => {
      batches++;
      prevMaxTimestamp = maxTimestamp;
    });
    expected = sound.nextOffset;
    if (sound.problem === null) break;
    pos = sound.end;
    const resume = nextSoundBatch(buf, pos + 1, expected);
    const end = resume < 0 ? buf.length : resume;
    const toOffset = resume < 0 ? null : readInt64BE(buf, resume);
    damage.push({
      position: pos,
      bytes: end - pos,
      fromOffset: expected,
      toOffset,
      reason: sound.problem,
      prevMaxTimestamp,
    });
    if (toOffset === null) break;
    expected = toOffset;
    pos = resume;
  }
  return { batches, nextOffset: expected, damage };
}

/**
 * An empty RecordBatch v2 (no records) spanning offsets `[fromOffset, toOffset)`: what a repair
 * leaves in place of damaged batches, so offsets stay dense and readers step over them. Kafka's
 * log cleaner leaves such batches too, and consumers skip them.
 */
export function encodeEmptyBatch(fromOffset: number, toOffset: number, timestamp: number): Buffer {
  const out = Buffer.alloc(BATCH_HEADER_SIZE);
  writeInt64BE(out, fromOffset, 0);
  out.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, OFF_BATCH_LENGTH);
  out.writeInt32BE(0, OFF_LEADER_EPOCH);
  out.writeInt8(CURRENT_MAGIC, OFF_MAGIC);
  out.writeInt16BE(0, OFF_ATTRIBUTES);
  out.writeInt32BE(toOffset - fromOffset - 1, OFF_LAST_OFFSET_DELTA);
  writeInt64BE(out, timestamp, OFF_BASE_TIMESTAMP);
  writeInt64BE(out, timestamp, OFF_MAX_TIMESTAMP);
  writeInt64BE(out, -1, OFF_PRODUCER_ID); // no idempotent producer
  out.writeInt16BE(-1, OFF_PRODUCER_EPOCH);
  out.writeInt32BE(-1, OFF_BASE_SEQUENCE);
  out.writeInt32BE(0, OFF_RECORD_COUNT);
  out.writeUInt32BE(crc32c(out, OFF_ATTRIBUTES, out.length), OFF_CRC);
  return out;
}
