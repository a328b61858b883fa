// Sparse time index of one segment (`<base>.timeindex`), Kafka's layout: 12-byte entries of
// timestamp int64 + relative offset int32, big-endian. Entry i pairs with offset-index entry i:
// (T, O) means "every record before offset O has a timestamp <= T". Pairing the two files makes
// a crash that persisted one but not the other detectable: load keeps only matching pairs.

import { grow, IndexFile } from './index-file.js';
import type { OffsetIndex } from './offset-index.js';
import { readInt64BE, writeInt64BE } from './varint.js';

const ENTRY_SIZE = 12;

/** Finds where in a segment to start looking for the first record at or after a timestamp. */
export class TimeIndex {
  private ts = new Float64Array(64);
  private rel = new Int32Array(64);
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
   * Loads the entries that pair with `offsets`' entries (same offsets, non-decreasing
   * timestamps) and cuts both indexes to the pairs found, so they always agree.
   */
  load(offsets: OffsetIndex): void {
    this.n = 0;
    this.written = 0;
    const data = this.file.readAll() ?? Buffer.alloc(0);
    const total = Math.min(Math.floor(data.length / ENTRY_SIZE), offsets.entries);
    for (let i = 0; i < total; i++) {
      const t = readInt64BE(data, i * ENTRY_SIZE);
      const r = data.readInt32BE(i * ENTRY_SIZE + 8);
      if (r !== offsets.offsetAt(i) - this.baseOffset || (i > 0 && t < this.ts[i - 1])) break;
      this.push(t, r);
    }
    this.written = this.n;
    if (this.n * ENTRY_SIZE !== data.length) this.file.truncate(this.n);
    offsets.truncateTo(this.n);
  }

  get entries(): number {
    return this.n;
  }

  /** Max timestamp of the records before the newest entry's offset, or -1 without entries. */
  get lastTimestamp(): number {
    return this.n === 0 ? -1 : this.ts[this.n - 1];
  }

  /** Records that every record before `offset` has a timestamp <= `timestamp`. */
  append(timestamp: number, offset: number): void {
    this.push(timestamp, offset - this.baseOffset);
  }

  /** The offset to start scanning from for the first record with timestamp >= `timestamp`. */
  startOffsetFor(timestamp: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return this.baseOffset + (found < 0 ? 0 : this.rel[found]);
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

  reset(): void {
    this.n = 0;
    this.written = 0;
    this.file.truncate(0);
  }

  flush(): void {
    if (this.written === this.n) return;
    const count = this.n - this.written;
    const buf = Buffer.allocUnsafe(count * ENTRY_SIZE);
    for (let i = 0; i < count; i++) {
      writeInt64BE(buf, this.ts[this.written + i], i * ENTRY_SIZE);
      buf.writeInt32BE(this.rel[this.written + i], i * ENTRY_SIZE + 8);
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

  private push(t: number, rel: number): void {
    if (this.n === this.rel.length) {
      this.ts = grow(this.ts);
      this.rel = grow(this.rel);
    }
    this.ts[this.n] = t;
    this.rel[this.n] = rel;
    this.n++;
  }
}
