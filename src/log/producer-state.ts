// Idempotent producers' state of one partition, kept with the log as Kafka keeps it: per
// producer id the epoch, the last sequence number and the sequence ranges and offsets of the
// last batches written, so a producer retrying a batch after a broker crash is answered with
// the batch's original offset instead of getting it written twice. Saved to a snapshot file
// `<offset>.snapshot` beside the segments (at every roll and at close) and rebuilt on open from
// the latest snapshot plus the batch headers after it.

import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTR_CONTROL,
  LOG_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BASE_SEQUENCE,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  OFF_RECORD_COUNT,
} from './batch-layout.js';
import { crc32c } from '../core/crc32c.js';
import { writeFileAtomic } from './fs-util.js';
import { readInt64BE } from './varint.js';

/** Batches remembered per producer (Kafka keeps 5: the clients' most requests in flight). */
export const RECENT_BATCHES = 5;
/** Producers remembered per partition; the least recently written are forgotten first. */
const MAX_PRODUCERS = 10_000;
const MAX_SEQ = 0x7fffffff;
const SNAPSHOT = /^(\d{20})\.snapshot$/;

/** One batch of a producer: its sequence range and where it was stored. */
export interface ProducerBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

/** What a partition knows of one idempotent producer. */
export interface ProducerEntry {
  epoch: number;
  /** Sequence number of the last record written (wraps from 2^31-1 to 0). */
  lastSeq: number;
  /** The last {@link RECENT_BATCHES} batches, oldest first. */
  recent: ProducerBatch[];
}

/** Last sequence of a batch of `count` records from `baseSeq` (sequences wrap at 2^31-1). */
export function lastSequenceOf(baseSeq: number, count: number): number {
  const last = baseSeq + count - 1;
  return last > MAX_SEQ ? last - MAX_SEQ - 1 : last;
}

/** True for a batch (at the start of `buf`) from an idempotent producer: a producer id and a base sequence. */
export function isIdempotentBatch(buf: Buffer): boolean {
  return buf.readInt32BE(OFF_PRODUCER_ID) >= 0 && buf.readInt32BE(OFF_BASE_SEQUENCE) >= 0;
}

/**
 * The idempotent producers of one partition.
 *
 * @example
 * const states = new ProducerStates();
 * states.record(4242, 0, 0, 10, 0);
 * states.get(4242); // { epoch: 0, lastSeq: 9, recent: [{ firstSeq: 0, lastSeq: 9, baseOffset: 0 }] }
 */
export class ProducerStates {
  // Map order doubles as least-recently-written order (entries are re-inserted on every write).
  private readonly entries = new Map<number, ProducerEntry>();
  /** Changed since the last snapshot. */
  dirty = false;

  get(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Puts back an entry read from a snapshot. */
  restore(producerId: number, entry: ProducerEntry): void {
    this.entries.set(producerId, entry);
  }

  /** Records a batch appended at `baseOffset`. */
  record(producerId: number, epoch: number, baseSeq: number, count: number, baseOffset: number): void {
    let entry = this.entries.get(producerId);
    if (entry === undefined || entry.epoch !== epoch) entry = { epoch, lastSeq: -1, recent: [] };
    this.entries.delete(producerId);
    const lastSeq = lastSequenceOf(baseSeq, count);
    entry.lastSeq = lastSeq;
    entry.recent.push({ firstSeq: baseSeq, lastSeq, baseOffset });
    if (entry.recent.length > RECENT_BATCHES) entry.recent.shift();
    this.entries.set(producerId, entry);
    if (this.entries.size > MAX_PRODUCERS) this.entries.delete(this.entries.keys().next().value as number);
    this.dirty = true;
  }

  /**
   * Records every idempotent batch in `data` (whole stored batches, e.g. from
   * `Partition.readBatches`); returns the offset after the last one.
   */
  recordBatches(data: Buffer, nextOffset: number): number {
    let pos = 0;
    while (pos + OFF_RECORD_COUNT + 4 <= data.length) {
      const baseOffset = readInt64BE(data, pos);
      this.recordBatch(data, pos, baseOffset);
      nextOffset = baseOffset + data.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) + 1;
      pos += data.readInt32BE(pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
    }
    return nextOffset;
  }

  /** Records the batch at `pos` of `data`, stored at `baseOffset`, when it is an idempotent producer's. */
  recordBatch(data: Buffer, pos: number, baseOffset: number): void {
    const producerId = readInt64BE(data, pos + OFF_PRODUCER_ID);
    const baseSeq = data.readInt32BE(pos + OFF_BASE_SEQUENCE);
    if (producerId < 0 || baseSeq < 0 || (data.readInt16BE(pos + OFF_ATTRIBUTES) & ATTR_CONTROL) !== 0)
      return;
    const epoch = data.readInt16BE(pos + OFF_PRODUCER_EPOCH);
    this.record(producerId, epoch, baseSeq, data.readInt32BE(pos + OFF_RECORD_COUNT), baseOffset);
  }

  /** Writes `<dir>/<offset>.snapshot` (the state of every batch before `offset`) and removes older snapshots. */
  writeSnapshot(dir: string, offset: number): void {
    const producers = [...this.entries].map(([id, e]) => [
      id,
      e.epoch,
      e.lastSeq,
      e.recent.map((b) => [b.firstSeq, b.lastSeq, b.baseOffset]),
    ]);
    const body = JSON.stringify({ version: 1, offset, producers });
    const crc = crc32c(Buffer.from(body, 'utf8')).toString(16).padStart(8, '0');
    writeFileAtomic(join(dir, snapshotName(offset)), `${crc}\n${body}\n`);
    for (const s of listSnapshots(dir)) if (s.offset !== offset) removeQuietly(join(dir, s.name));
    this.dirty = false;
  }

  /**
   * The state of `partition` after a restart: the newest usable snapshot, then the batches
   * stored after it replayed from their headers.
   */
  static recover(
    partition: {
      dir: string;
      highWatermark: number;
      logStartOffset: number;
      readBatches(offset: number, maxBytes: number): Buffer;
    },
    warn: (message: string) => void,
  ): ProducerStates {
    const { dir, highWatermark, logStartOffset } = partition;
    const { states, offset } = ProducerStates.load(dir, highWatermark, logStartOffset, warn);
    let next = Math.max(offset, logStartOffset);
    while (next < highWatermark) {
      const data = partition.readBatches(next, 1 << 20);
      if (data.length === 0) break; // nothing more stored (never loop on a gap)
      next = states.recordBatches(data, next);
    }
    // Batches replayed here are not in a snapshot yet: save them at the next roll or close.
    states.dirty ||= offset < highWatermark;
    return states;
  }

  /**
   * The state saved in the newest intact snapshot of `dir` that does not lie beyond
   * `highWatermark` (a snapshot of batches recovery cut off is stale), and its offset; an empty
   * state at `fallbackOffset` when there is none. Damaged or stale snapshots are reported and
   * removed, never used.
   */
  static load(
    dir: string,
    highWatermark: number,
    fallbackOffset: number,
    warn: (message: string) => void,
  ): { states: ProducerStates; offset: number } {
    for (const s of listSnapshots(dir).reverse()) {
      const path = join(dir, s.name);
      const problem = s.offset > highWatermark ? `it lies beyond the log end ${highWatermark}` : null;
      const states = problem === null ? parseSnapshot(readFileSync(path, 'utf8'), s.offset) : problem;
      if (typeof states !== 'string') return { states, offset: s.offset };
      warn(
        `sluice log: producer-state snapshot ${path} is not used (${states}); rebuilding producer state from the log`,
      );
      removeQuietly(path);
    }
    return { states: new ProducerStates(), offset: fallbackOffset };
  }
}

function snapshotName(offset: number): string {
  return `${String(offset).padStart(20, '0')}.snapshot`;
}

function listSnapshots(dir: string): { name: string; offset: number }[] {
  return readdirSync(dir)
    .map((name) => ({ name, m: SNAPSHOT.exec(name) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ name: x.name, offset: Number(x.m![1]) }))
    .sort((a, b) => a.offset - b.offset);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone: nothing to remove
  }
}

/** The state in a snapshot file's text, or why it cannot be used. */
function parseSnapshot(text: string, offset: number): ProducerStates | string {
  const nl = text.indexOf('\n');
  const body = text.slice(nl + 1).trimEnd();
  const crc = crc32c(Buffer.from(body, 'utf8')).toString(16).padStart(8, '0');
  if (nl !== 8 || text.slice(0, 8) !== crc) return 'its checksum does not match: the file is damaged';
  let parsed: { version?: unknown; offset?: unknown; producers?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
  if (parsed.version !== 1 || parsed.offset !== offset || !Array.isArray(parsed.producers)) {
    return 'expected version 1, its own offset and a producers list';
  }
  const states = new ProducerStates();
  for (const p of parsed.producers as unknown[]) {
    if (!Array.isArray(p) || p.length !== 4 || !Array.isArray(p[3])) return 'a producer entry is malformed';
    const [id, epoch, lastSeq, recent] = p as [number, number, number, number[][]];
    const entry: ProducerEntry = {
      epoch,
      lastSeq,
      recent: recent.map(([firstSeq, last, baseOffset]) => ({ firstSeq, lastSeq: last, baseOffset })),
    };
    const numbers = [id, epoch, lastSeq, ...recent.flat()];
    if (!numbers.every(Number.isSafeInteger)) return 'a producer entry holds a non-integer';
    states.restore(id, entry);
  }
  return states;
}
