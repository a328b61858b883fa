// One segment of a partition: `<base>.log` holding whole RecordBatches back to back, with its
// sparse `.index` and `.timeindex`. File names are the base offset zero-padded to 20 digits,
// as in Kafka. Sync fs calls on purpose: an append is one write of a whole batch (microseconds);
// sync calls avoid a promise per batch on the hot path.

import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, writevSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
} from './batch-layout.js';
import { LogError } from './errors.js';
import { ioError, openReadWrite, readFully, writeFully } from './fs-util.js';
import { OffsetIndex } from './offset-index.js';
import { nextSoundBatch } from './segment-check.js';
import { scanBatches, type ScanResult } from './segment-scan.js';
import { TimeIndex } from './time-index.js';
import { readInt64BE } from './varint.js';

export interface SegmentConfig {
  /** Log bytes between offset-index entries (Kafka's index.interval.bytes). */
  indexIntervalBytes: number;
  /** Where recovery reports what it cut. */
  warn: (msg: string) => void;
}

/** `00000000000000000042.log` for base offset 42 and extension `.log`. */
export function segmentFileName(baseOffset: number, ext: string): string {
  return `${String(baseOffset).padStart(20, '0')}${ext}`;
}

// Index entries are written in groups; this bounds what a crash can lose (and recovery must
// rescan) to ~1 MiB of log at the default interval.
const MAX_UNWRITTEN_ENTRIES = 256;

// Header walks read this much at a time; shared because every call is synchronous.
const HEADER_BLOCK = Buffer.allocUnsafe(8192);

/** A segment file and its indexes. Partitions own segments; nothing else should. */
export class Segment {
  readonly logPath: string;
  readonly index: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** Bytes of whole, valid batches in the log file. */
  size = 0;
  /** Offset after the last record; for sealed segments, the next segment's base offset. */
  nextOffset: number;
  /** Largest record timestamp in the segment, -1 when unknown or empty. */
  maxTimestamp = -1;
  private lastIndexedPos = 0;
  /** File position of the first damaged byte of a sealed segment (Infinity: none found). */
  private damagedFrom = Infinity;
  private damageReason = '';
  private indexed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly fd: number,
    private readonly config: SegmentConfig,
  ) {
    this.logPath = join(dir, segmentFileName(baseOffset, '.log'));
    this.index = new OffsetIndex(join(dir, segmentFileName(baseOffset, '.index')), baseOffset);
    this.timeIndex = new TimeIndex(join(dir, segmentFileName(baseOffset, '.timeindex')), baseOffset);
    this.nextOffset = baseOffset;
  }

  /** Creates an empty segment, replacing any leftover files of the same name. */
  static create(dir: string, baseOffset: number, config: SegmentConfig): Segment {
    const fd = openSync(join(dir, segmentFileName(baseOffset, '.log')), 'w+');
    const seg = new Segment(dir, baseOffset, fd, config);
    seg.index.reset();
    seg.timeIndex.reset();
    seg.indexed = true;
    return seg;
  }

  /** Opens an existing segment without reading it; call recover() on the newest one. */
  static open(dir: string, baseOffset: number, config: SegmentConfig): Segment {
    const fd = openReadWrite(join(dir, segmentFileName(baseOffset, '.log')));
    const seg = new Segment(dir, baseOffset, fd, config);
    seg.size = fstatSync(fd).size;
    return seg;
  }

  /**
   * Validates the newest segment from its last index entry on (from the start when the indexes
   * are missing or wrong, rebuilding them) and cuts a torn or corrupt tail. Returns bytes cut.
   */
  recover(): number {
    const fileSize = this.size;
    const result = this.loadIndexesAndScan(fileSize);
    if (result.problem === null) return 0;
    this.refuseCutBeforeSoundBatches(result, fileSize);
    const cut = fileSize - result.end;
    try {
      ftruncateSync(this.fd, result.end);
    } catch (err) {
      throw ioError(`cutting the damaged tail of ${this.logPath}`, err);
    }
    this.index.truncateFromPosition(result.end);
    this.timeIndex.truncateTo(this.index.entries);
    this.config.warn(
      `sluice log: recovery cut ${cut} bytes from ${this.logPath} at offset ${result.nextOffset} ` +
        `(file position ${result.end}): ${result.problem}. Records from offset ${result.nextOffset} on were not ` +
        'fully written (crash or torn write) and are gone; appends continue from there.',
    );
    return cut;
  }

  /**
   * A torn write leaves damage only at the very end. Sound batches after the damaged one mean the
   * middle of the file changed (a bad sector, an edit): cutting there would drop good records,
   * so opening stops and says how to set the damage aside instead.
   */
  private refuseCutBeforeSoundBatches(result: ScanResult, fileSize: number): void {
    const rest = Buffer.allocUnsafe(fileSize - result.end);
    if (this.read(rest, rest.length, result.end) < rest.length) return;
    const resume = nextSoundBatch(rest, 1, result.nextOffset);
    if (resume < 0) return;
    throw new LogError(
      'SLUICE_LOG_CORRUPT',
      `${this.logPath} is damaged at file position ${result.end} (offset ${result.nextOffset}): ${result.problem}; ` +
        `sound batches follow at position ${result.end + resume}, so this is not a torn write and recovery keeps ` +
        `them rather than cut the file. Run "sluice log check --data ${dirname(this.dir)} --repair" to set the ` +
        'damaged batches aside (with a report), then start again',
    );
  }

  /** Appends one batch (`head` + optional `rest`, already carrying its final offsets) in one write. */
  append(
    head: Buffer,
    rest: Buffer | null,
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
  ): void {
    this.ensureIndexed();
    const pos = this.size;
    const total = head.length + (rest === null ? 0 : rest.length);
    try {
      if (rest === null) writeFully(this.fd, head, pos);
      else {
        const n = writevSync(this.fd, [head, rest], pos);
        if (n < total) writeFully(this.fd, Buffer.concat([head, rest]).subarray(n), pos + n);
      }
    } catch (err) {
      try {
        ftruncateSync(this.fd, pos); // never leave half a batch behind
      } catch {
        // recovery on the next open cuts it instead
      }
      throw ioError(`appending ${total} bytes to ${this.logPath}`, err);
    }
    this.track(pos, baseOffset, total, lastOffset, maxTimestamp);
  }

  /**
   * Whole stored batches starting with the one that contains `offset`, up to `maxBytes` (but
   * always the first batch, however large). Null when the segment has nothing at or after `offset`.
   */
  readBatches(offset: number, maxBytes: number): Buffer | null {
    this.ensureIndexed();
    const entry = this.index.floorEntry(offset);
    let pos = entry < 0 ? 0 : this.index.positionAt(entry);
    const end = this.size;
    let blockStart = 0;
    let blockLen = 0;
    let firstSize: number;
    for (;;) {
      if (pos >= this.damagedFrom) throw this.damaged(pos);
      if (pos >= end) return null;
      let rel = pos - blockStart;
      if (blockLen === 0 || rel < 0 || rel + BATCH_HEADER_SIZE > blockLen) {
        blockLen = this.read(HEADER_BLOCK, Math.min(HEADER_BLOCK.length, end - pos), pos);
        blockStart = pos;
        rel = 0;
      }
      const batchLength = HEADER_BLOCK.readInt32BE(rel + OFF_BATCH_LENGTH);
      if (
        blockLen < BATCH_HEADER_SIZE ||
        batchLength < MIN_BATCH_LENGTH ||
        pos + LOG_OVERHEAD + batchLength > end
      ) {
        throw this.damaged(pos);
      }
      const lastOffset =
        readInt64BE(HEADER_BLOCK, rel) + HEADER_BLOCK.readInt32BE(rel + OFF_LAST_OFFSET_DELTA);
      if (lastOffset >= offset) {
        firstSize = batchLength + LOG_OVERHEAD;
        break;
      }
      pos += batchLength + LOG_OVERHEAD;
    }
    const want = Math.max(firstSize, Math.min(maxBytes, end - pos));
    const out = Buffer.allocUnsafe(want);
    if (this.read(out, want, pos) < want) throw this.damaged(pos);
    let cut = firstSize;
    while (cut + BATCH_HEADER_SIZE <= want) {
      const size = out.readInt32BE(cut + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || cut + size > want) break;
      cut += size;
    }
    return cut === want ? out : out.subarray(0, cut);
  }

  /** Closes the segment for appends: makes its log and indexes durable. */
  seal(): void {
    this.flush(true);
    this.index.sync();
    this.timeIndex.sync();
  }

  /** Writes pending index entries; with `syncData`, also fdatasyncs the log file. */
  flush(syncData: boolean): void {
    this.flushIndexes();
    if (!syncData) return;
    try {
      fdatasyncSync(this.fd);
    } catch (err) {
      throw ioError(`fsync of ${this.logPath}`, err);
    }
  }

  close(): void {
    this.flushIndexes();
    this.index.close();
    this.timeIndex.close();
    closeSync(this.fd);
  }

  /**
   * Loads (or rebuilds) the indexes of a sealed segment. Done on first use, so opening a
   * partition with many segments reads only the newest one.
   */
  ensureIndexed(): void {
    if (this.indexed) return;
    const expectedNext = this.nextOffset;
    const fileSize = this.size;
    const result = this.loadIndexesAndScan(fileSize);
    if (result.problem !== null || result.nextOffset !== expectedNext) {
      // Reads stop at the damage with SLUICE_LOG_CORRUPT rather than skip its records unseen.
      this.damagedFrom = result.end;
      const problem = result.problem ?? `records ${result.nextOffset}..${expectedNext - 1} are missing`;
      this.damageReason = `offset ${result.nextOffset}: ${problem}`;
      this.size = fileSize;
      this.nextOffset = expectedNext;
      this.config.warn(
        `sluice log: ${this.logPath} is damaged at file position ${result.end} (offset ${result.nextOffset}, ` +
          `next segment starts at ${expectedNext}): ${problem}. Reads from there fail until ` +
          `"sluice log check --data ${dirname(this.dir)} --repair" sets the damage aside (with a report); ` +
          'restore the file from a replica or backup to get those records back.',
      );
    }
    this.flushIndexes();
  }

  private loadIndexesAndScan(fileSize: number): ScanResult {
    this.indexed = true;
    this.index.load(fileSize);
    this.timeIndex.load(this.index);
    let result = this.scanFrom(this.index.entries - 1, fileSize);
    if (result.problem !== null && result.end === this.lastIndexedPos && this.lastIndexedPos > 0) {
      // The newest entry names a batch that is not there: distrust the index, not the log.
      this.resetIndexes();
      result = this.scanFrom(-1, fileSize);
    }
    return result;
  }

  private flushIndexes(): void {
    this.timeIndex.flush(); // first: a time entry on disk without its offset entry is simply dropped on load
    this.index.flush();
  }

  private resetIndexes(): void {
    this.index.reset();
    this.timeIndex.reset();
  }

  /** Scans and validates batches from index entry `entry` (-1: file start), indexing each one. */
  private scanFrom(entry: number, fileSize: number): ScanResult {
    const fromPos = entry < 0 ? 0 : this.index.positionAt(entry);
    const fromOffset = entry < 0 ? this.baseOffset : this.index.offsetAt(entry);
    this.lastIndexedPos = fromPos;
    this.maxTimestamp = this.timeIndex.lastTimestamp;
    this.nextOffset = fromOffset;
    this.size = fromPos;
    return scanBatches(this.fd, fromPos, fileSize, fromOffset, (pos, base, size, last, maxTs) =>
      this.track(pos, base, size, last, maxTs),
    );
  }

  private track(
    pos: number,
    baseOffset: number,
    size: number,
    lastOffset: number,
    maxTimestamp: number,
  ): void {
    if (pos - this.lastIndexedPos >= this.config.indexIntervalBytes) {
      this.timeIndex.append(this.maxTimestamp, baseOffset); // max of the records before this batch
      this.index.append(baseOffset, pos);
      this.lastIndexedPos = pos;
      if (this.index.unwritten >= MAX_UNWRITTEN_ENTRIES) this.flushIndexes();
    }
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    this.size = pos + size;
    this.nextOffset = lastOffset + 1;
  }

  private read(buf: Buffer, length: number, pos: number): number {
    try {
      return readFully(this.fd, buf, 0, length, pos);
    } catch (err) {
      throw ioError(`reading ${this.logPath}`, err);
    }
  }

  private damaged(pos: number): LogError {
    return new LogError(
      'SLUICE_LOG_CORRUPT',
      `${this.logPath} holds no valid batch at file position ${pos}` +
        (pos >= this.damagedFrom ? ` (${this.damageReason})` : '') +
        "; the file was changed behind the log's back. " +
        `Stop what uses the log, then run "sluice log check --data ${dirname(this.dir)}" to list the damage and ` +
        'add --repair to set the damaged part aside',
    );
  }
}
