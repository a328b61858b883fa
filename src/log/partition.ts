// A partition: an ordered run of segments in `<dir>` (by convention `<topic>-<n>/`), the newest
// of which takes appends. Offsets are dense: every append gets the next offsets, one
// RecordBatch per call, written with one write.

import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { OFF_MAX_TIMESTAMP } from './batch-layout.js';
import { validateProducerBatch } from './batch-validate.js';
import { encodeControlBatch, type TxnMarker } from './control-batch.js';
import type { CompressionCodec } from './compression.js';
import { LogError, LogOffsetOutOfRangeError } from './errors.js';
import { fsyncDir } from './fs-util.js';
import {
  resolvePartitionOptions,
  type PartitionOptions,
  type ResolvedPartitionOptions,
} from './partition-options.js';
import { readLogStart, writeLogStart } from './log-start.js';
import { isIdempotentBatch, ProducerStates } from './producer-state.js';
import { encodeRecordBatch } from './record-batch.js';
import { deletePrefix, expiredPrefix, prefixBelow } from './retention.js';
import { openSegments, segmentIndexFor } from './segment-files.js';
import { Segment, type SegmentConfig } from './segment.js';
import { decodeStoredBatches, soundPrefix, type ReadResult } from './stored-batches.js';
import { findOffsetByTimestamp } from './time-lookup.js';
import type { ProducerRecord } from './types.js';
import { readInt64BE, writeInt64BE } from './varint.js';

export type { FsyncPolicy, PartitionOptions } from './partition-options.js';
export type { ReadResult } from './stored-batches.js';

/** Offsets given to an appended batch. */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
}

const EMPTY = Buffer.alloc(0);

function segmentConfig(opts: ResolvedPartitionOptions): SegmentConfig {
  return { indexIntervalBytes: opts.indexIntervalBytes, warn: opts.onWarning };
}

const MAX_RELATIVE_OFFSET = 0x7fffffff; // index entries store offsets relative to the segment as int32

/**
 * One partition of a topic: append batches, read from any offset, survive crashes.
 *
 * @example
 * const p = Partition.open('/var/lib/sluice/orders-0', { segmentBytes: 64 << 20 });
 * const { baseOffset } = p.append([{ key: Buffer.from('user-1'), value: Buffer.from('{"amount":12}') }]);
 * const { records, nextOffset } = p.read(baseOffset);
 * p.close();
 */
export class Partition {
  /** Directory name, e.g. `orders-0`; used in messages. */
  readonly name: string;
  private active: Segment;
  private closed = false;
  private dirty = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private failure: unknown;
  /** When the active segment started taking appends (for rolling by age). */
  private activeSince = Date.now();
  /** Idempotent producers' state, loaded on first use (snapshot + the batches after it). */
  private producerStates: ProducerStates | undefined;
  /** Records below this were deleted (DeleteRecords), even where their segment remains. */
  private deletedBefore: number;

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    private opts: ResolvedPartitionOptions,
  ) {
    this.name = basename(dir);
    this.active = segments[segments.length - 1];
    this.deletedBefore = Math.min(readLogStart(dir, opts.onWarning), this.active.nextOffset);
    this.startRetention();
  }

  /**
   * Applies new options (a topic's segment or retention config changed) to the open partition:
   * the next roll and retention check use them.
   */
  reconfigure(options: PartitionOptions): void {
    this.checkOpen();
    this.opts = resolvePartitionOptions(options);
    clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    this.startRetention();
  }

  private startRetention(): void {
    const opts = this.opts;
    if (opts.retentionMs !== undefined || opts.retentionBytes !== undefined) {
      this.enforceRetention();
      this.retentionTimer = setInterval(() => {
        if (!this.closed) this.enforceRetention();
      }, opts.retentionCheckIntervalMs);
      this.retentionTimer.unref();
    }
  }

  /**
   * Deletes the oldest closed segments that retention (age, size) no longer keeps and moves the
   * log start offset forward; runs on open, after every roll and periodically. Returns how many
   * segments it deleted.
   */
  enforceRetention(now = Date.now()): number {
    this.checkOpen();
    const n = expiredPrefix(
      this.segments,
      { retentionMs: this.opts.retentionMs, retentionBytes: this.opts.retentionBytes },
      now,
    );
    deletePrefix(this.segments, n);
    return n;
  }

  /**
   * Opens (creating if needed) the partition in `dir`, recovering the newest segment. One
   * instance per directory: {@link Log} guarantees that; direct callers must.
   */
  static open(dir: string, options: PartitionOptions = {}): Partition {
    const opts = resolvePartitionOptions(options);
    mkdirSync(dir, { recursive: true });
    return new Partition(dir, openSegments(dir, segmentConfig(opts)), opts);
  }

  /** The offset the next appended record will get (Kafka's high watermark on a single node). */
  get highWatermark(): number {
    return this.active.nextOffset;
  }

  /** The first offset still stored: the base offset of the oldest segment. */
  get logStartOffset(): number {
    return Math.max(this.segments[0].baseOffset, this.deletedBefore);
  }

  /**
   * Deletes every record before `offset` (Kafka's DeleteRecords): the log start offset moves
   * there, durably, and segments wholly below it are removed. Returns the new log start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.checkWritable();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.highWatermark) {
      throw new LogOffsetOutOfRangeError(
        offset,
        this.logStartOffset,
        this.highWatermark,
        `partition ${this.name}`,
      );
    }
    if (offset <= this.logStartOffset) return this.logStartOffset;
    writeLogStart(this.dir, offset);
    this.deletedBefore = offset;
    deletePrefix(this.segments, prefixBelow(this.segments, offset));
    return this.logStartOffset;
  }

  /**
   * Appends `records` as one batch, compressed with `compression` (default none); records without
   * a timestamp get `now`.
   */
  append(
    records: readonly ProducerRecord[],
    now = Date.now(),
    compression: CompressionCodec = 'none',
  ): AppendResult {
    this.checkWritable();
    const baseOffset = this.highWatermark;
    const batch = encodeRecordBatch(records, baseOffset, {
      timestamp: now,
      partitionLeaderEpoch: 0,
      compression,
    });
    this.checkSize(batch.length);
    const lastOffset = baseOffset + records.length - 1;
    this.write(batch, null, baseOffset, lastOffset, readInt64BE(batch, OFF_MAX_TIMESTAMP));
    return { baseOffset, lastOffset };
  }

  /**
   * Appends one already-encoded RecordBatch v2 (e.g. from a Kafka producer), storing its bytes
   * unchanged except baseOffset. Validates framing, magic, CRC and offsets; returns the base offset.
   */
  appendBatch(buf: Buffer): number {
    this.checkWritable();
    this.checkSize(buf.length);
    const lastOffsetDelta = validateProducerBatch(buf, this.name);
    const baseOffset = this.highWatermark;
    // Loaded before the write, so the rebuild from the log does not see this batch too.
    const producers = isIdempotentBatch(buf) ? this.producers() : this.producerStates;
    const head = Buffer.allocUnsafe(8); // baseOffset is outside the CRC, so no re-checksum
    writeInt64BE(head, baseOffset, 0);
    this.write(
      head,
      buf.subarray(8),
      baseOffset,
      baseOffset + lastOffsetDelta,
      readInt64BE(buf, OFF_MAX_TIMESTAMP),
    );
    producers?.recordBatch(buf, 0, baseOffset);
    return baseOffset;
  }

  /**
   * Appends a transaction marker (a control batch, see control-batch.ts) ending `marker`'s
   * producer's transaction here; returns its offset. Written by the broker's transaction
   * coordinator, never by producers.
   */
  appendControl(marker: TxnMarker, now = Date.now()): number {
    this.checkWritable();
    const batch = encodeControlBatch(marker, now);
    const offset = this.highWatermark;
    writeInt64BE(batch, offset, 0);
    this.write(batch, null, offset, offset, now);
    return offset;
  }

  /**
   * The idempotent producers of this partition (epochs, last sequences, offsets of their
   * recent batches): read from the newest snapshot and the batches after it on first use, then
   * kept up to date by {@link appendBatch}.
   */
  producers(): ProducerStates {
    this.checkOpen();
    this.producerStates ??= ProducerStates.recover(this, this.opts.onWarning);
    return this.producerStates;
  }

  /**
   * Reads records from `offset` on: whole batches up to `maxBytes` (at least one batch when one
   * exists), from one segment, skipping the records of the first batch that precede `offset`.
   * Every batch's CRC-32C is checked before it is decoded: a damaged batch throws SLUICE_LOG_CORRUPT
   * naming the partition and its offsets, and none of its records are returned.
   */
  read(offset: number, maxBytes = 1 << 20): ReadResult {
    return decodeStoredBatches(this.readBatches(offset, maxBytes), offset, this);
  }

  /**
   * The stored bytes of whole batches, starting with the batch that contains `offset` (which
   * may begin before it), up to `maxBytes` but never less than one batch. Empty at the high watermark.
   */
  readBatches(offset: number, maxBytes = 1 << 20): Buffer {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || offset < this.logStartOffset || offset > this.highWatermark) {
      throw new LogOffsetOutOfRangeError(
        offset,
        this.logStartOffset,
        this.highWatermark,
        `partition ${this.name}`,
      );
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new LogError(
        'SLUICE_LOG_INVALID_ARGUMENT',
        `maxBytes ${maxBytes} must be a non-negative integer`,
      );
    }
    if (offset === this.highWatermark) return EMPTY;
    for (let i = segmentIndexFor(this.segments, offset); i < this.segments.length; i++) {
      const seg = this.segments[i];
      const data = seg.readBatches(Math.max(offset, seg.baseOffset), maxBytes);
      if (data !== null) return data;
    }
    return EMPTY;
  }

  /**
   * {@link readBatches}, with each batch's CRC-32C checked (what the broker serves): cut before
   * the first damaged batch, and SLUICE_LOG_CORRUPT when the first batch itself is damaged, so a damaged
   * batch is never served and a consumer stops at it with a clear error.
   */
  readVerifiedBatches(offset: number, maxBytes = 1 << 20): Buffer {
    return soundPrefix(this.readBatches(offset, maxBytes), this);
  }

  /** Offset of the first record with timestamp >= `timestamp`, or undefined when there is none. */
  offsetForTimestamp(timestamp: number): number | undefined {
    this.checkOpen();
    for (const seg of this.segments) {
      const offset = findOffsetByTimestamp(seg, timestamp);
      if (offset !== undefined) return Math.max(offset, this.logStartOffset);
    }
    return undefined;
  }

  /** Makes every append so far durable (fdatasync of the active segment). */
  flush(): void {
    this.checkOpen();
    if (!this.dirty) return;
    this.active.flush(true);
    this.dirty = false;
  }

  /** Flushes and closes the files. Further calls throw SLUICE_LOG_CLOSED; closing twice is a no-op. */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.flushTimer);
    clearInterval(this.retentionTimer);
    try {
      if (this.failure === undefined) {
        this.flush();
        // After the flush, so the snapshot never covers batches that are not on disk.
        if (this.producerStates?.dirty === true)
          this.producerStates.writeSnapshot(this.dir, this.highWatermark);
      }
    } finally {
      this.closed = true;
      for (const s of this.segments) s.close();
    }
  }

  private write(
    head: Buffer,
    rest: Buffer | null,
    baseOffset: number,
    lastOffset: number,
    maxTs: number,
  ): void {
    const size = head.length + (rest === null ? 0 : rest.length);
    const seg = this.active;
    const tooOld = this.opts.segmentMs !== undefined && Date.now() - this.activeSince >= this.opts.segmentMs;
    if (
      seg.size > 0 &&
      (tooOld ||
        seg.size + size > this.opts.segmentBytes ||
        lastOffset - seg.baseOffset > MAX_RELATIVE_OFFSET)
    ) {
      this.roll();
    }
    this.active.append(head, rest, baseOffset, lastOffset, maxTs);
    this.dirty = true;
    if (this.opts.fsync === 'batch') this.flush();
    else if (this.opts.fsync === 'interval') this.scheduleFlush();
  }

  private roll(): void {
    // The sealed segment is made durable now because recovery only rescans the newest one.
    this.active.seal();
    this.dirty = false;
    // Kafka's moment for a producer-state snapshot: everything before it is now on disk, and
    // recovery after a crash then scans at most the new segment to catch up.
    if (this.producerStates?.dirty === true)
      this.producerStates.writeSnapshot(this.dir, this.active.nextOffset);
    const next = Segment.create(this.dir, this.active.nextOffset, segmentConfig(this.opts));
    this.segments.push(next);
    this.active = next;
    this.activeSince = Date.now();
    fsyncDir(this.dir);
    if (this.opts.retentionMs !== undefined || this.opts.retentionBytes !== undefined)
      this.enforceRetention();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.closed) return;
      try {
        this.flush();
      } catch (err) {
        // After a failed fsync the page cache can no longer be trusted (fsyncgate): refuse appends.
        this.failure = err;
        this.opts.onWarning(`sluice log: background fsync of ${this.name} failed: ${(err as Error).message}`);
      }
    }, this.opts.fsyncIntervalMs);
    this.flushTimer.unref();
  }

  private checkSize(size: number): void {
    if (size > this.opts.maxBatchBytes) {
      throw new LogError(
        'SLUICE_LOG_BATCH_TOO_LARGE',
        `batch of ${size} bytes exceeds maxBatchBytes ${this.opts.maxBatchBytes} for ${this.name}; append fewer or smaller records, or raise maxBatchBytes`,
      );
    }
  }

  private checkOpen(): void {
    if (this.closed)
      throw new LogError('SLUICE_LOG_CLOSED', `partition ${this.name} is closed; open it again to use it`);
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure !== undefined) {
      throw new LogError(
        'SLUICE_LOG_IO_ERROR',
        `an earlier fsync of ${this.name} failed, so recent appends may not be on disk; close and reopen the partition (recovery keeps what is on disk)`,
        { cause: this.failure },
      );
    }
  }
}
