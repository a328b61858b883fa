/**
 * How surprising a value is given the values seen before it: the empirical upper tail over a
 * sliding window of the last `capacity` values, extended beyond the largest one by an
 * exponential tail fitted to the top of the window (a peaks-over-threshold estimate), so a
 * value far beyond anything seen gets a tail probability well below 1/capacity instead of a
 * flat floor. Used on non-negative statistics (residual magnitudes, rarity): larger = rarer.
 */
export class EmpiricalTail {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private size = 0;
  private head = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  /** Smallest index in `sorted[0, size)` whose value is >= v. */
  private lowerBound(v: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The q-quantile (0..1) of the window; NaN when empty. */
  quantile(q: number): number {
    if (this.size === 0) return NaN;
    const pos = q * (this.size - 1);
    const i = Math.floor(pos);
    const a = this.sorted[i]!;
    const b = this.sorted[Math.min(this.size - 1, i + 1)]!;
    return a + (b - a) * (pos - i);
  }

  /**
   * −log10 of the probability of a value at least `v` among the window's values (with one pseudo
   * count, so it is finite), extended by an exponential tail above the window's 90th percentile.
   * 0 when the window holds fewer than `minCount` values.
   */
  surprise(v: number, minCount = 30): number {
    const n = this.size;
    if (n < minCount || !Number.isFinite(v)) return 0;
    const above = n - this.lowerBound(v);
    const empirical = (above + 1) / (n + 1);
    const q90 = this.quantile(0.9);
    if (v <= q90) return -Math.log10(empirical);
    // Exponential tail: P(X > v | X > q90) = exp(−(v − q90)/β), β the mean excess over q90.
    let excess = 0;
    let k = 0;
    for (let i = this.lowerBound(q90); i < n; i++) {
      excess += this.sorted[i]! - q90;
      k++;
    }
    const beta = k > 0 ? excess / k : 0;
    if (!(beta > 0)) return -Math.log10(empirical);
    const log10Tail = Math.log10(0.1) - (v - q90) / (beta * Math.LN10);
    // The fitted tail never claims the value is less rare than the counts say.
    return Math.max(-Math.log10(empirical), -log10Tail);
  }

  /** The window as numbers (size, head, ring, sorted values): what `restore` reads back. */
  snapshot(): Float64Array {
    const out = new Float64Array(2 + 2 * this.capacity);
    out[0] = this.size;
    out[1] = this.head;
    out.set(this.ring, 2);
    out.set(this.sorted, 2 + this.capacity);
    return out;
  }

  /** Puts back a window saved by `snapshot` (of a tail with the same capacity). */
  restore(data: Float64Array): void {
    if (data.length !== 2 + 2 * this.capacity)
      throw new Error(`EmpiricalTail: snapshot of ${data.length} numbers, expected ${2 + 2 * this.capacity}`);
    this.size = data[0]!;
    this.head = data[1]!;
    this.ring.set(data.subarray(2, 2 + this.capacity));
    this.sorted.set(data.subarray(2 + this.capacity));
  }

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    const { sorted } = this;
    if (this.size === this.capacity) {
      const old = this.ring[this.head]!;
      const at = this.lowerBound(old);
      sorted.copyWithin(at, at + 1, this.size);
      this.size--;
    }
    const at = this.lowerBound(v);
    sorted.copyWithin(at + 1, at, this.size);
    sorted[at] = v;
    this.size++;
    this.ring[this.head] = v;
    this.head = (this.head + 1) % this.capacity;
  }
}
