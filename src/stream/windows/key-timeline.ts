/**
 * One key's recent records as parallel arrays: event times (sorted) and prefix sums of each
 * value channel. Any window (lo, hi] is two binary searches and one subtraction per channel,
 * whatever its size, so a 30-day window costs the same as a 1-day one.
 *
 * Prefix sums are never rebased while the key has live entries, and restart at exactly 0 once
 * all of them have expired: their values depend only on the key's records since it was last
 * idle, not on when old entries were compacted away or the key was saved and restored. So a
 * state restored from a checkpoint computes bit-identical features, and stores bit-identical
 * state, to one that never stopped.
 */
export class KeyTimeline {
  /** Index of the first live entry; entries before it are expired and await compaction. */
  start = 0;

  constructor(
    readonly times: number[] = [],
    /** prefix[c][k] = sum of channel c over entries before index k; length = times.length + 1. */
    readonly prefix: number[][] = [],
  ) {}

  static empty(channels: number): KeyTimeline {
    const prefix: number[][] = [];
    for (let c = 0; c < channels; c++) prefix.push([0]);
    return new KeyTimeline([], prefix);
  }

  get lastTime(): number {
    return this.times.length > this.start ? this.times[this.times.length - 1]! : -Infinity;
  }

  /** Adds an entry; in time order this is a push, otherwise an insert that redoes later sums. */
  insert(time: number, values: ArrayLike<number>): void {
    const { times, prefix } = this;
    const n = times.length;
    if (n === this.start || time >= times[n - 1]!) {
      times.push(time);
      for (let c = 0; c < prefix.length; c++) {
        const p = prefix[c]!;
        p.push(p[n]! + values[c]!);
      }
      return;
    }
    // Out of order: insert after entries with an equal time, then recompute the sums after it.
    const at = this.upperBound(time);
    times.splice(at, 0, time);
    for (let c = 0; c < prefix.length; c++) {
      const p = prefix[c]!;
      const old = p.slice(at + 1);
      const base = p[at]!;
      p.length = at + 1;
      p.push(base + values[c]!);
      let prev = base;
      for (let k = 0; k < old.length; k++) {
        const x = old[k]! - prev;
        prev = old[k]!;
        p.push(p[p.length - 1]! + x);
      }
    }
  }

  /** First live index whose time is > t. */
  upperBound(t: number): number {
    let lo = this.start;
    let hi = this.times.length;
    const times = this.times;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops entries with time <= `before`; compacts the arrays once half of them are dead. */
  expire(before: number): void {
    const cut = this.upperBound(before);
    if (cut === this.start) return;
    this.start = cut;
    if (this.start >= 64 && this.start * 2 >= this.times.length) this.compact();
  }

  /**
   * Empties the timeline and restarts its sums at 0. Called whenever every entry has expired,
   * so a key's sums never depend on whether it stayed in memory or was reloaded or dropped.
   *
   * The base must be set to 0, not just kept: after a compaction or a restore from a
   * checkpoint, prefix[c][0] holds the sum of entries that expired earlier, while a timeline
   * that never left memory uncompacted has 0 there. Keeping it made every later sum of the key
   * drift by that constant, which depended on where a run had been cut (issue 20, item 7).
   */
  reset(): void {
    this.times.length = 0;
    for (const p of this.prefix) {
      p.length = 1;
      p[0] = 0;
    }
    this.start = 0;
  }

  get size(): number {
    return this.times.length - this.start;
  }

  private compact(): void {
    const s = this.start;
    this.times.splice(0, s);
    for (const p of this.prefix) p.splice(0, s);
    this.start = 0;
  }

  /**
   * The live entries as raw float64 bytes for checkpoints: [entries, channels, times...,
   * prefix channel 0..., ...]. Binary is several times cheaper to store than arrays of numbers,
   * and doubles round-trip exactly, so a restored timeline computes bit-identical features.
   */
  toBinary(): Buffer {
    const s = this.start;
    const n = this.times.length - s;
    const c = this.prefix.length;
    const out = new Float64Array(2 + n + c * (n + 1));
    out[0] = n;
    out[1] = c;
    let at = 2;
    for (let i = s; i < this.times.length; i++) out[at++] = this.times[i]!;
    for (const p of this.prefix) for (let i = s; i < p.length; i++) out[at++] = p[i]!;
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  static fromBinary(bytes: Uint8Array): KeyTimeline {
    // Copy: a stored Buffer may sit at an offset that is not a multiple of 8.
    const f = new Float64Array(bytes.byteLength / 8);
    new Uint8Array(f.buffer).set(bytes);
    const n = f[0]!;
    const c = f[1]!;
    const times = Array.from(f.subarray(2, 2 + n));
    const prefix: number[][] = [];
    for (let k = 0; k < c; k++) {
      const from = 2 + n + k * (n + 1);
      prefix.push(Array.from(f.subarray(from, from + n + 1)));
    }
    return new KeyTimeline(times, prefix);
  }
}
