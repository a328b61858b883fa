// Sparse offset index of one segment (`<base>.index`), Kafka's layout: 8-byte entries of
// relative offset int32 + file position int32, big-endian, one every ~4 KiB of log.
// An entry names a batch by its *base* offset, so a lookup lands on the batch that contains
// the target or one before it.

import { grow, IndexFile } from './index-file.js';

const ENTRY_SIZE = 8;

/**
 * Maps offsets to log file positions for one segment.
 *
 * @example
 * const idx = new OffsetIndex('/data/t-0/00000000000000000000.index', 0);
 * idx.append(500, 4096);
 * idx.positionAt(idx.floorEntry(700)); // 4096: scan batches from there
 */
export class OffsetIndex {
  private rel = new Int32Array(64);
  private pos = new Int32Array(64);
  private n = 0;
  private written = 0;
  private readonly file: IndexFile;

  constructor(
    path: string,
    readonly baseOffset: number,
  ) {
    this.file = new IndexFile(path, ENTRY_SIZE);
  }

  /**
   * Loads the file, keeping the longest sound prefix: whole entries, strictly increasing offsets
   * and positions, positions inside a log of `logSize` bytes. The rest is cut, also on disk;
   * recovery rebuilds it from the log.
   */
  load(logSize: number): void {
    this.n = 0;
    this.written = 0;
    const data = this.file.readAll() ?? Buffer.alloc(0);
    const total = Math.floor(data.length / ENTRY_SIZE);
    for (let i = 0; i < total; i++) {
      const r = data.readInt32BE(i * ENTRY_SIZE);
      const p = data.readInt32BE(i * ENTRY_SIZE + 4);
      const prev = this.n - 1;
      if (r < 0 || p < 0 || p >= logSize || (prev >= 0 && (r <= this.rel[prev] || p <= this.pos[prev])))
        break;
      this.push(r, p);
    }
    this.written = this.n;
    if (this.n * ENTRY_SIZE !== data.length) this.file.truncate(this.n);
  }

  get entries(): number {
    return this.n;
  }

  /** Adds an entry for the batch with base offset `offset` at file `position`. */
  append(offset: number, position: number): void {
    this.push(offset - this.baseOffset, position);
  }

  /** Entries not yet written to the file. */
  get unwritten(): number {
    return this.n - this.written;
  }

  /** Index of the last entry whose offset is <= `offset`, or -1 when there is none. */
  floorEntry(offset: number): number {
    const target = offset - this.baseOffset;
    let lo = 0;
    let hi = this.n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid] <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  offsetAt(entry: number): number {
    return this.baseOffset + this.rel[entry];
  }

  positionAt(entry: number): number {
    return this.pos[entry];
  }

  /** Drops the entries that point at or past file `position` (the log was cut there). */
  truncateFromPosition(position: number): void {
    let keep = this.n;
    while (keep > 0 && this.pos[keep - 1] >= position) keep--;
    this.truncateTo(keep);
  }

  /** Keeps the first `keep` entries, in memory and on disk. */
  truncateTo(keep: number): void {
    if (keep >= this.n) return;
    this.n = keep;
    if (this.written > keep) {
      this.written = keep;
      this.file.truncate(keep);
    }
  }

  /** Drops every entry, in memory and on disk. */
  reset(): void {
    this.n = 0;
    this.written = 0;
    this.file.truncate(0);
  }

  /** Writes entries not yet on disk (one write). */
  flush(): void {
    if (this.written === this.n) return;
    const count = this.n - this.written;
    const buf = Buffer.allocUnsafe(count * ENTRY_SIZE);
    for (let i = 0; i < count; i++) {
      buf.writeInt32BE(this.rel[this.written + i], i * ENTRY_SIZE);
      buf.writeInt32BE(this.pos[this.written + i], i * ENTRY_SIZE + 4);
    }
    this.file.write(this.written, buf);
    this.written = this.n;
  }

  sync(): void {
    this.file.sync();
  }

  close(): void {
    this.file.close();
  }

  private push(rel: number, position: number): void {
    if (this.n === this.rel.length) {
      this.rel = grow(this.rel);
      this.pos = grow(this.pos);
    }
    this.rel[this.n] = rel;
    this.pos[this.n] = position;
    this.n++;
  }
}
