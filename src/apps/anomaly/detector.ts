/**
 * An online anomaly detector for one univariate time series. Each value is scored against
 * what came before it, then learned: no look-ahead, one pass, bounded memory.
 *
 * 1. Statistics of the newest value against its own past, at several time scales:
 *    local change (last 6 rows vs the 6 before), level shifts (the last 6 rows vs the last day,
 *    the last 12/48 rows vs the 3× longer span before them), volatility (mean |Δ| over 48 rows,
 *    log-ratio to its running median), and seasonal deviations (the last rows vs the same time
 *    1 day and 1 week ago, and vs the median of the same span 1, 2 and 3 weeks ago).
 * 2. Each statistic becomes a surprise, −log10 of its tail probability among its own last
 *    `history` values (`EmpiricalTail`), so scales and units drop out and every series is
 *    judged by its own normal.
 * 3. The anomaly evidence of a row is the sum of the `combine` largest surprises (several
 *    views agreeing beats one) minus its running median (the series' background level).
 * 4. Repeats are suppressed: an event starts only when the evidence beats the largest of the
 *    last `suppressRows` rows by `suppressMargin`, and it is reported once, `hold` rows later,
 *    with the largest evidence seen meanwhile; other rows report 0.
 *
 * The score is `1 − 10^(−evidence/10)` in [0, 1).
 *
 * @example
 * const d = new SeriesAnomalyDetector();
 * for (const [t, x] of rows) console.log(d.update(t, x)); // epoch ms, value -> anomaly score
 */
import { EmpiricalTail } from './empirical-tail.js';

export interface DetectorConfig {
  /** Past values each statistic's tail is measured against. */
  history: number;
  /** Rows in the "recent" span of the short statistics. */
  shortWindow: number;
  /** Rows of the background the level statistic compares against. */
  levelWindow: number;
  /** How far beyond the observed tail (in decades) an extrapolated surprise may go. */
  tailCap: number;
  /** Surprises summed into a row's evidence. */
  combine: number;
  /** Rows an event must beat to be reported again. */
  suppressRows: number;
  /** Decades of evidence a new event needs above the last `suppressRows` rows. */
  suppressMargin: number;
  /** Rows an event is watched before its strength is reported. */
  hold: number;
}

/** One configuration for every series (chosen on NAB's realKnownCause + artificialWithAnomaly). */
export const DETECTOR_DEFAULTS: Readonly<DetectorConfig> = Object.freeze({
  history: 2000,
  shortWindow: 6,
  levelWindow: 288,
  tailCap: 0.5,
  combine: 3,
  suppressRows: 200,
  suppressMargin: 0.3,
  hold: 6,
});

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** Rows kept for the seasonal look-ups (3 weeks + a day at 1-minute sampling fits). */
const RING = 1 << 15;

/** Statistic names, in the order their surprises are computed. */
export const STATISTICS = [
  'short',
  'level',
  'mean12',
  'mean48',
  'vol48',
  'day',
  'week',
  'weeks6',
  'weeks48',
  'weeksDay',
] as const;
type Statistic = (typeof STATISTICS)[number];

export class SeriesAnomalyDetector {
  readonly config: DetectorConfig;
  private readonly times = new Float64Array(RING);
  private readonly values = new Float64Array(RING);
  /** Rows seen; row g lives at g & (RING − 1) while g >= n − RING. */
  private n = 0;
  private readonly tails = new Map<Statistic, EmpiricalTail>();
  private readonly volatility: EmpiricalTail;
  private readonly evidence: EmpiricalTail;
  private readonly recent: Float64Array;
  private recentAt = 0;
  private holdLeft = 0;
  private holdMax = 0;
  /** Surprise per statistic of the last update (for inspection). */
  readonly lastSurprise: Partial<Record<Statistic, number>> = {};

  constructor(config: Partial<DetectorConfig> = {}) {
    this.config = { ...DETECTOR_DEFAULTS, ...config };
    for (const s of STATISTICS) this.tails.set(s, new EmpiricalTail(this.config.history));
    this.volatility = new EmpiricalTail(this.config.history);
    this.evidence = new EmpiricalTail(this.config.history);
    this.recent = new Float64Array(this.config.suppressRows);
  }

  /** Rows learned so far. */
  get rows(): number {
    return this.n;
  }

  /** Scores the value at time `t` (epoch ms) against the past, then learns it. */
  update(t: number, x: number): number {
    if (!Number.isFinite(x)) return 0;
    const st = this.statistics(t, x);
    const surprises: number[] = [];
    for (const name of STATISTICS) {
      const u = st[name];
      if (u === undefined) continue;
      const tail = this.tails.get(name)!;
      const s = Math.min(tail.surprise(u), Math.log10(tail.count + 1) + this.config.tailCap);
      this.lastSurprise[name] = s;
      surprises.push(s);
      tail.add(u);
    }
    this.push(t, x);
    surprises.sort((a, b) => b - a);
    let sum = 0;
    for (let i = 0; i < Math.min(this.config.combine, surprises.length); i++) sum += surprises[i]!;
    const background = this.evidence.count > 50 ? this.evidence.quantile(0.5) : sum;
    this.evidence.add(sum);
    return toScore(this.suppress(Math.max(0, sum - background)));
  }

  /**
   * Everything later scores depend on, as bytes (float64s): counters, the kept rows, the
   * suppression ring and every tail. A restored detector scores the next rows exactly like this
   * one would (`lastSurprise`, kept for inspection only, is not saved).
   */
  snapshot(): Uint8Array {
    const kept = Math.min(this.n, RING);
    const tails = [...this.tails.values(), this.volatility, this.evidence].map((t) => t.snapshot());
    const out = new Float64Array(4 + 2 * kept + this.recent.length + tails.reduce((a, t) => a + t.length, 0));
    out.set([this.n, this.recentAt, this.holdLeft, this.holdMax]);
    let at = 4;
    for (let g = this.n - kept; g < this.n; g++, at++) {
      out[at] = this.times[g & (RING - 1)]!;
      out[at + kept] = this.values[g & (RING - 1)]!;
    }
    at += kept;
    for (const part of [this.recent, ...tails]) {
      out.set(part, at);
      at += part.length;
    }
    return new Uint8Array(out.buffer);
  }

  /** A detector in the state `snapshot()` saved; `config` must be the one it was saved with. */
  static restore(bytes: Uint8Array, config: Partial<DetectorConfig> = {}): SeriesAnomalyDetector {
    const d = new SeriesAnomalyDetector(config);
    // Copied: bytes read from a store need not be 8-byte aligned.
    const data = new Float64Array(new Uint8Array(bytes).buffer);
    d.n = data[0]!;
    d.recentAt = data[1]!;
    d.holdLeft = data[2]!;
    d.holdMax = data[3]!;
    const kept = Math.min(d.n, RING);
    let at = 4;
    for (let g = d.n - kept; g < d.n; g++, at++) {
      d.times[g & (RING - 1)] = data[at]!;
      d.values[g & (RING - 1)] = data[at + kept]!;
    }
    at += kept;
    d.recent.set(data.subarray(at, at + d.recent.length));
    at += d.recent.length;
    for (const t of [...d.tails.values(), d.volatility, d.evidence]) {
      const len = 2 + 2 * t.capacity;
      t.restore(data.subarray(at, at + len));
      at += len;
    }
    if (at !== data.length)
      throw new Error(
        `SeriesAnomalyDetector: snapshot of ${data.length} numbers, read ${at}: another config?`,
      );
    return d;
  }

  /** Reports each event once (see the file comment, step 4). */
  private suppress(e: number): number {
    let previous = 0;
    for (const v of this.recent) if (v > previous) previous = v;
    this.recent[this.recentAt] = e;
    this.recentAt = (this.recentAt + 1) % this.recent.length;
    if (this.holdLeft > 0) {
      this.holdMax = Math.max(this.holdMax, e);
      return --this.holdLeft === 0 ? this.holdMax : 0;
    }
    if (e > 0 && e > previous + this.config.suppressMargin) {
      if (this.config.hold <= 1) return e;
      this.holdLeft = this.config.hold - 1;
      this.holdMax = e;
    }
    return 0;
  }

  private push(t: number, x: number): void {
    const i = this.n++ & (RING - 1);
    this.times[i] = t;
    this.values[i] = x;
  }

  private value(g: number): number {
    return this.values[g & (RING - 1)]!;
  }

  private first(): number {
    return Math.max(0, this.n - RING);
  }

  /** Mean of rows [from, to). */
  private mean(from: number, to: number): number {
    let s = 0;
    for (let g = from; g < to; g++) s += this.value(g);
    return s / (to - from);
  }

  /** The last row with time <= t, or −1 when the kept rows do not reach back to t. */
  private rowAt(t: number): number {
    let lo = this.first();
    if (this.n === 0 || this.times[lo & (RING - 1)]! > t) return -1;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid & (RING - 1)]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Mean of the `m` rows ending with the new value x. */
  private recentMean(x: number, m: number): number {
    return m <= 1 ? x : (this.mean(this.n - m + 1, this.n) * (m - 1) + x) / m;
  }

  private statistics(t: number, x: number): Partial<Record<Statistic, number>> {
    const out: Partial<Record<Statistic, number>> = {};
    const n = this.n;
    const { shortWindow: k, levelWindow: L } = this.config;
    if (n < 2 * k) return out;
    const recent = this.recentMean(x, k);
    out.short = Math.abs(recent - this.mean(n - 2 * k + 1, n - k + 1));
    if (n >= L + k) out.level = Math.abs(recent - this.mean(n - L, n - k + 1));
    for (const [name, m] of [
      ['mean12', 12],
      ['mean48', 48],
    ] as const) {
      if (n >= 4 * m) out[name] = Math.abs(this.recentMean(x, m) - this.mean(n - 4 * m, n - m + 1));
    }
    if (n >= 48) {
      let s = Math.abs(x - this.value(n - 1));
      for (let g = n - 47; g < n; g++) s += Math.abs(this.value(g) - this.value(g - 1));
      const vol = s / 48;
      const median = this.volatility.quantile(0.5);
      this.volatility.add(vol);
      if (Number.isFinite(median))
        out.vol48 = Math.abs(Math.log((vol + 1e-9 + median * 0.01) / (median * 1.01 + 1e-9)));
    }
    // Seasonal: the same span one day / one week ago, and the median of 1, 2, 3 weeks ago.
    const d = this.rowAt(t - DAY);
    if (d >= k - 1 && d - k + 1 >= this.first()) out.day = Math.abs(recent - this.mean(d - k + 1, d + 1));
    const w = this.rowAt(t - WEEK);
    if (w >= k - 1 && w - k + 1 >= this.first()) out.week = Math.abs(recent - this.mean(w - k + 1, w + 1));
    const span = this.rows > 1 ? Math.max(1, Math.round(DAY / this.samplingMs())) : 1;
    for (const [name, m] of [
      ['weeks6', k],
      ['weeks48', 48],
      ['weeksDay', span],
    ] as const) {
      if (n < m || m > 4096) continue;
      const past: number[] = [];
      for (let j = 1; j <= 3; j++) {
        const e = this.rowAt(t - j * WEEK);
        if (e < 0 || e - m + 1 < this.first()) break;
        past.push(this.mean(e - m + 1, e + 1));
      }
      if (past.length === 0) continue;
      past.sort((a, b) => a - b);
      out[name] = Math.abs(this.recentMean(x, m) - past[past.length >> 1]!);
    }
    return out;
  }

  /** Mean time between the kept rows. */
  private samplingMs(): number {
    const a = this.first();
    const b = this.n - 1;
    return Math.max(1, (this.times[b & (RING - 1)]! - this.times[a & (RING - 1)]!) / Math.max(1, b - a));
  }
}

/** Evidence (decades of rarity above the background) as a score in [0, 1). */
export function toScore(evidence: number): number {
  return 1 - Math.pow(10, -evidence / 10);
}
