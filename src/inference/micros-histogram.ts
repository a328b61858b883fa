/**
 * Percentiles of a duration, in microseconds.
 *
 * @example
 * const w: MicrosSummary = { count: 10, p50: 120, p99: 480, max: 510 };
 */
export interface MicrosSummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

const LINEAR = 1024; // 1 µs buckets below this
const SUB = 64; // buckets per power of two above it (1.6 % resolution)
const OCTAVES = 32; // up to 2^42 µs, far beyond any wait

/**
 * A tiny duration histogram for per-request hot paths (a few ns per record, no allocation):
 * to the nearest µs below 1 ms, then within 1.6 % (reported at the top of the bucket). The batcher records every request's wait in
 * one; `src/observe`'s HdrHistogram stays the tool for exported latency.
 *
 * @example
 * const h = new MicrosHistogram(); h.record(0.25); h.summary().p50; // 250
 */
export class MicrosHistogram {
  readonly #counts = new Float64Array(LINEAR + SUB * OCTAVES);
  #count = 0;
  #max = 0;

  /** Records one duration given in milliseconds (negative counts as 0). */
  record(ms: number): void {
    let us = ms * 1000;
    if (!(us > 0)) us = 0;
    if (us > this.#max) this.#max = us;
    this.#count++;
    if (us < LINEAR - 0.5) {
      this.#counts[Math.round(us)]!++;
      return;
    }
    const e = Math.max(10, Math.min(Math.floor(Math.log2(us)), 10 + OCTAVES - 1));
    const sub = Math.max(0, Math.min(SUB - 1, Math.floor((us / 2 ** e - 1) * SUB)));
    this.#counts[LINEAR + (e - 10) * SUB + sub]!++;
  }

  get count(): number {
    return this.#count;
  }

  /** Value at percentile p (0–100) in µs (above 1 ms the top of its bucket), never above the max. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(this.#max, upperEdge(i));
    }
    return this.#max;
  }

  summary(): MicrosSummary {
    return { count: this.#count, p50: this.percentile(50), p99: this.percentile(99), max: this.#max };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
  }
}

function upperEdge(i: number): number {
  if (i < LINEAR) return i;
  const e = 10 + Math.floor((i - LINEAR) / SUB);
  const sub = (i - LINEAR) % SUB;
  return 2 ** e * (1 + (sub + 1) / SUB);
}
