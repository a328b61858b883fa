/**
 * ARTime, Mark Hampton's Adaptive Resonance Theory anomaly detector (the leader of the Numenta
 * Anomaly Benchmark, 74.9 on the standard profile over NAB's 58 series), reimplemented in
 * TypeScript from the algorithm of its open-source edition (github.com/markNZed/ARTimeNAB.jl,
 * AGPL-3.0, and NAB's `nab/detectors/ARTime` wrapper), with its published parameters: none of
 * them was tuned here.
 *
 * Like NAB's wrapper, it is told three things about a series up front: its minimum, its maximum
 * (NAB's `inputMin`/`inputMax`, computed over the whole file: a mild look-ahead NAB grants every
 * detector) and its length (which fixes the probationary period, 15 % of the rows, at most 750,
 * as NAB's scorer uses). Otherwise the score of row t depends only on rows 1..t. With
 * `{ online }` instead (`ARTimeOnlineOptions`) it is told nothing: a fixed probation in rows and a
 * range learned from the rows so far (on all 58 NAB series at best 60.54 standard against the
 * 74.85 with NAB's look-ahead: README, "Without NAB's look-ahead").
 *
 * 1. **Downsampling**: every `sstep` rows (≈ probation / 104), the window of the last `sstep`
 *    values becomes one sample: its extreme farthest from a running average (a spike, kept only
 *    when ≥ 10 % off the window's mean), else the mean.
 * 2. **Discretising**: the sample is scaled to [0, 1] with the series' min/max, rounded to one of
 *    80 levels, and snapped to an approximate running median when within 0.075 of it.
 * 3. **Features**: the last 8 samples (min-max normalised) through a 3-level Haar wavelet
 *    transform (min-max normalised again), beside the 8 samples themselves: 16 numbers.
 * 4. **ART network** (a compact dual-vigilance fuzzy ART): complement-coded features are matched
 *    against every category by fuzzy-AND similarity³ × "energy" similarity² (how the newest
 *    sample matches). A match above the upper vigilance ρ_ub teaches every such category (fast
 *    learning: the element-wise minimum); a best match between ρ_lb and ρ_ub creates a category in
 *    an existing cluster; below ρ_lb a new cluster is created: a candidate anomaly.
 * 5. **Probation**: the samples of the probationary period are kept, an initial vigilance is
 *    found by training a scratch network (ρ 0.8) on them, least typical first, and they are then
 *    learned in order, scoring 0.
 * 6. **Vigilance adaptation**: every half probation (in samples) and 12 samples after an anomaly,
 *    ρ_ub becomes the running mean of best-match similarities (at most 0.97) and ρ_lb moves up
 *    towards the lowest recent similarity or down by the recent shortfall below ρ_ub, never below
 *    the mean similarity of past anomalies.
 * 7. **Masking and confidence**: a new cluster is an anomaly unless masked (just after an
 *    anomaly, a new cluster or a vigilance change), where it must also be clearly less similar
 *    than the last anomaly. Its score is a confidence from how far below both vigilances its
 *    similarity is, plus 1.5 × the energy mismatch, capped at 1. Every other row scores 0.
 *
 * @example
 * const d = new ARTimeDetector({ min: 0, max: 100, length: rows.length });
 * for (const [t, x] of rows) console.log(d.update(t, x));
 */

import { decodeState, encodeState } from './state-codec.js';

/** What NAB tells a detector about a series before its first row. */
export interface ARTimeSeriesInfo {
  /** Smallest value of the series. */
  min: number;
  /** Largest value of the series. */
  max: number;
  /** Rows in the series. */
  length: number;
}

/**
 * ARTime without NAB's look-ahead (`ARTimeDetector.online`): nothing about the series is told up
 * front, the score of row t depends only on rows 1..t.
 */
export interface ARTimeOnlineOptions {
  /** Rows of the detector's own probation (fixed, instead of 15 % of a length it cannot know). */
  probationRows: number;
  /**
   * How values are scaled to [0, 1] instead of the file's min/max:
   * - `remap`: the running min/max of the rows so far; when it widens, everything learned in
   *   normalised units (the ART categories' sample dimensions, the last samples, the median's
   *   levels) is re-expressed in the new range by the same affine map (with `margin`, the range
   *   is the rows' widened by margin × their range on each side, and widens when a row leaves it).
   * - `clamp`: the min/max of the probation's rows, widened by `margin` × their range on each
   *   side, later values clamped into it.
   */
  range: 'remap' | 'clamp';
  /** Widening of the rows' range on each side, as a share of it (default 0). */
  margin?: number;
}

/** ARTime's published parameters (`ARTime.P()` of ARTimeNAB.jl). */
export const ARTIME_PARAMETERS = Object.freeze({
  /** Samples in a feature window. */
  window: 8,
  /** Feature windows per probationary period (fixes the downsampling step). */
  windowsPerProbation: 13,
  /** Distance to the running median (normalised units) under which a sample snaps to it. */
  discretizeChomp: 0.075,
  /** Discretisation levels of the normalised value. */
  levels: 80,
  /** Vigilance of the scratch network that finds the initial vigilance. */
  initialRho: 0.8,
});

const WINDOW = ARTIME_PARAMETERS.window;
const DIM = 2 * WINDOW; // wavelet features + samples
const DIM_COMP = 2 * DIM; // complement-coded
/** Samples after an anomaly during which new anomalies are masked, and after which ρ updates. */
const MASK = Math.floor(WINDOW * 1.5);
const SQRT_HALF = 0.7071067811865475;

/** Julia's `round(Int, x)`: to nearest, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Full-depth orthonormal Haar transform of 8 values, laid out as Wavelets.jl's `dwt(x, haar)`:
 * [approximation, detail level 3, details level 2 (2), details level 1 (4)], each detail
 * (second − first)/√2 of its pair.
 */
export function haarDwt8(x: ArrayLike<number>, out: Float64Array): Float64Array {
  let s = Array.from(x);
  let n = s.length;
  while (n > 1) {
    const half = n >> 1;
    const next = new Array<number>(half);
    for (let k = 0; k < half; k++) {
      const a = s[2 * k]!;
      const b = s[2 * k + 1]!;
      next[k] = SQRT_HALF * a + SQRT_HALF * b;
      out[half + k] = -SQRT_HALF * a + SQRT_HALF * b;
    }
    s = next;
    n = half;
  }
  out[0] = s[0]!;
  return out;
}

/** Min-max normalises `v` in place (left shifted to 0 when constant). */
function minMaxInPlace(v: Float64Array): void {
  let lo = Infinity;
  for (const x of v) if (x < lo) lo = x;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    v[i] = v[i]! - lo;
    if (v[i]! > hi) hi = v[i]!;
  }
  if (hi !== 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / hi;
}

/** Julia's equal-weight online mean (OnlineStats.Mean). */
class RunningMean {
  n = 0;
  mean = 0;
  add(x: number): void {
    this.n++;
    this.mean += (1 / this.n) * (x - this.mean);
  }
}

/** Outcome of one presentation to the ART network. */
interface Match {
  /** Similarity of the best-matching category (0 when none matched at all). */
  similarity: number;
  /** Energy similarity of that category. */
  energy: number;
  /** True when no category was within the lower vigilance: a new cluster. */
  newCluster: boolean;
}

/**
 * The dual-vigilance fuzzy ART network of ARTime (after AdaptiveResonance.jl's DVFA, as
 * compacted in ARTimeNAB.jl): categories are complement-coded weight vectors, all of them
 * within `rhoUb` of a sample learn it, a best match within `rhoLb` adds a category.
 */
export class ARTimeNetwork {
  rhoLb = 0;
  rhoUb = 0;
  /** Categories × DIM_COMP weights. */
  private w = new Float64Array(64 * DIM_COMP);
  private wSum = new Float64Array(64);
  private wEnergy = new Float64Array(64);
  categories = 0;
  private m = new Float64Array(64);
  private me = new Float64Array(64);
  private readonly x = new Float64Array(DIM_COMP);

  /** Presents features `f` (length DIM); learns unless `learning` is false. */
  present(f: ArrayLike<number>, learning = true): Match {
    const x = this.x;
    for (let k = 0; k < DIM; k++) {
      x[k] = f[k]!;
      x[DIM + k] = 1 - f[k]!;
    }
    if (this.categories === 0) {
      // The first presentation creates an all-ones category and is not otherwise learned.
      this.add(new Float64Array(DIM_COMP).fill(1));
      return { similarity: 0, energy: 0, newCluster: false };
    }
    const n = this.categories;
    const w = this.w;
    let best = -1;
    let nan = false;
    for (let j = 0; j < n; j++) {
      const o = j * DIM_COMP;
      let num = 0;
      for (let k = 0; k < DIM_COMP; k++) {
        const a = x[k]!;
        const b = w[o + k]!;
        num += a < b ? a : b;
      }
      const nW = this.wSum[j] === 0 ? 0.001 : this.wSum[j]!;
      const fs = num / nW;
      const a1 = x[DIM - 1]!;
      const b1 = w[o + DIM - 1]!;
      const a2 = x[DIM_COMP - 1]!;
      const b2 = w[o + DIM_COMP - 1]!;
      const es = ((a1 < b1 ? a1 : b1) + (a2 < b2 ? a2 : b2)) / this.wEnergy[j]!;
      const mj = fs * fs * fs * (es * es);
      this.m[j] = mj;
      this.me[j] = es;
      // Julia sorts descending with NaN first; ties keep the lower index.
      if (Number.isNaN(mj)) nan = true;
      else if (best < 0 || mj > this.m[best]!) best = j;
    }
    if (nan) {
      // A NaN first in the order matches nothing and is not a best match.
      if (learning) this.add(x);
      return { similarity: 0, energy: 0, newCluster: learning };
    }
    const top = this.m[best]!;
    const match: Match = {
      similarity: top > 0 ? top : 0,
      energy: top > 0 ? this.me[best]! : 0,
      newCluster: false,
    };
    if (!learning) return match; // the caller counts these as new clusters
    if (top >= this.rhoUb) {
      for (let j = 0; j < n; j++) if (this.m[j]! >= this.rhoUb) this.learn(j);
    } else if (top >= this.rhoLb) {
      this.add(x);
    } else {
      this.add(x);
      match.newCluster = true;
    }
    return match;
  }

  /**
   * Re-expresses the sample dimensions (the last WINDOW of the features) of every committed
   * category in a new range: a normalised value v becomes a·v + b (a > 0 keeps each box's order).
   */
  remapSamples(a: number, b: number): void {
    const w = this.w;
    for (let j = 0; j < this.categories; j++) {
      const o = j * DIM_COMP;
      for (let k = WINDOW; k < DIM; k++) {
        const lo = w[o + k]!;
        const hi = 1 - w[o + DIM + k]!;
        if (lo > hi) continue; // an uncommitted (all-ones) box stays empty
        w[o + k] = a * lo + b;
        w[o + DIM + k] = 1 - (a * hi + b);
      }
      let sum = 0;
      for (let k = 0; k < DIM_COMP; k++) sum += w[o + k]!;
      this.wSum[j] = sum;
      this.wEnergy[j] = w[o + DIM - 1]! + w[o + DIM_COMP - 1]!;
    }
  }

  private learn(j: number): void {
    const o = j * DIM_COMP;
    let sum = 0;
    for (let k = 0; k < DIM_COMP; k++) {
      const v = Math.min(this.x[k]!, this.w[o + k]!);
      this.w[o + k] = v;
      sum += v;
    }
    this.wSum[j] = sum;
    this.wEnergy[j] = this.w[o + DIM - 1]! + this.w[o + DIM_COMP - 1]!;
  }

  private add(v: Float64Array): void {
    const j = this.categories;
    if (j === this.wSum.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.w = grow(this.w);
      this.wSum = grow(this.wSum);
      this.wEnergy = grow(this.wEnergy);
      this.m = grow(this.m);
      this.me = grow(this.me);
    }
    this.w.set(v, j * DIM_COMP);
    let sum = 0;
    for (const x of v) sum += x;
    this.wSum[j] = sum;
    this.wEnergy[j] = v[DIM - 1]! + v[DIM_COMP - 1]!;
    this.categories++;
  }
}

/** Cosine similarity, as ARTime's `similarity` (1 − the other norm when one vector is zero). */
function similarity(a: Float64Array, b: Float64Array): number {
  let na = 0;
  let nb = 0;
  let dot = 0;
  for (let k = 0; k < a.length; k++) {
    na += a[k]! * a[k]!;
    nb += b[k]! * b[k]!;
    dot += a[k]! * b[k]!;
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  if (na === 0) return 1 - nb;
  if (nb === 0) return 1 - na;
  return dot / (na * nb);
}

const mean = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s / v.length;
};

export class ARTimeDetector {
  /** What it was told up front (NAB's look-ahead); undefined when `online`. */
  readonly info: ARTimeSeriesInfo | undefined;
  /** Set when it runs without look-ahead. */
  readonly online: Readonly<ARTimeOnlineOptions> | undefined;
  /** Rows in the probationary period (even). */
  readonly probation: number;
  /** Rows per downsampled sample. */
  readonly sstep: number;
  /** Samples in the probationary period (the "trend window"). */
  readonly trendWindow: number;

  private net = new ARTimeNetwork();
  /** Raw rows seen. */
  private i = 1;
  /** Downsampled samples seen + 1. */
  private dsi = 1;
  private dsWindow: Float64Array;
  private dsAverage = 0;
  private readonly medbin = new Int32Array(ARTIME_PARAMETERS.levels + 1);
  private medlevel = 0;
  private belowmed = 0;
  private abovemed = 0;
  private fWindow = new Float64Array(WINDOW);
  private probationFeatures: Float64Array[] = [];
  // detect! state
  private lastAnomalyI = 0;
  private lastAnomalySim = 0;
  private lastRhoUpdateI = 0;
  private maskAfterCat = false;
  private noNewCatCount = 0;
  private anomalySims: number[] = [];
  private simWindow: Float64Array;
  private simDiffWindow: Float64Array;
  private readonly simMean = new RunningMean();
  /** The range values are scaled with (the file's with `info`; learned when `online`). */
  private lo = 0;
  private hi = 0;
  private rowMin = Infinity;
  private rowMax = -Infinity;
  /** `online`: the probation's samples before scaling, scaled once its range is known. */
  private rawProbation: number[] = [];

  /**
   * @param info the series' min, max and length told up front (NAB's runner), or, with
   *   `{ online }`, nothing: a fixed probation and a range learned from the rows so far.
   */
  constructor(info: ARTimeSeriesInfo | { online: ARTimeOnlineOptions }) {
    let pp: number;
    if ('online' in info) {
      this.online = Object.freeze({ ...info.online });
      pp = Math.max(2 * WINDOW, Math.floor(info.online.probationRows));
    } else {
      this.info = { ...info };
      this.lo = info.min;
      this.hi = info.max;
      pp = info.length < 5000 ? Math.floor(0.15 * info.length) : 750;
    }
    this.probation = pp - (pp % 2);
    this.sstep = Math.max(1, Math.floor(this.probation / (WINDOW * ARTIME_PARAMETERS.windowsPerProbation)));
    this.trendWindow = Math.floor(this.probation / this.sstep);
    this.dsWindow = new Float64Array(this.sstep);
    this.simWindow = new Float64Array((this.trendWindow >> 1) + 1).fill(1);
    this.simDiffWindow = new Float64Array(this.trendWindow + 1);
  }

  /** Rows learned so far. */
  get rows(): number {
    return this.i - 1;
  }

  /**
   * Everything it has learned (the ART network, the windows, the median, the vigilance
   * history), as bytes: `ARTimeDetector.restore` gives a detector that scores the next rows
   * exactly as this one would.
   */
  snapshot(): Uint8Array {
    return encodeState(this);
  }

  /** A detector in the state `snapshot()` saved. */
  static restore(bytes: Uint8Array): ARTimeDetector {
    // The state is plain data (numbers, arrays, typed arrays): put it back into instances of the
    // classes it was taken from (a structured clone keeps the fields, not the prototypes).
    const state = decodeState(bytes) as Record<string, unknown>;
    const d = Object.create(ARTimeDetector.prototype) as ARTimeDetector;
    Object.assign(d, state, {
      net: Object.assign(new ARTimeNetwork(), state.net),
      simMean: Object.assign(new RunningMean(), state.simMean),
    });
    return d;
  }

  /** Scores value `x` (the time is not used by ARTime), then learns it. */
  update(_t: number, x: number): number {
    const ds = this.dsWindow;
    ds.copyWithin(0, 1);
    ds[ds.length - 1] = x;
    if (x < this.rowMin) this.rowMin = x;
    if (x > this.rowMax) this.rowMax = x;
    let anomaly = 0;
    if (this.i % this.sstep === 0) {
      const raw = this.rawSample();
      const k = this.dsi;
      if (!this.online) anomaly = this.processFeatures(this.features(this.scale(raw, k), k), k);
      else anomaly = this.onlineSample(raw, k);
      this.dsi++;
    }
    this.i++;
    return anomaly;
  }

  /**
   * `online`: the probation's samples wait for its end, when the rows' range is known, and are
   * then scaled and learned as ARTime learns its probation (their rows scored 0 already).
   */
  private onlineSample(raw: number, k: number): number {
    const o = this.online!;
    if (k <= this.trendWindow) {
      this.rawProbation.push(raw);
      if (k < this.trendWindow) return 0;
      this.lo = this.rowMin;
      this.hi = this.rowMax;
      if (o.range === 'clamp' || o.margin) {
        // A constant probation gets a range of its own magnitude above it.
        const span = this.hi - this.lo || Math.abs(this.lo) || 1;
        const m = (o.margin ?? 0) * span;
        this.hi = this.lo + span + m;
        this.lo -= m;
      }
      const samples = this.rawProbation;
      this.rawProbation = [];
      samples.forEach((r, j) => this.processFeatures(this.features(this.scale(r, j + 1), j + 1), j + 1));
      return 0;
    }
    if (o.range === 'remap' && (this.rowMin < this.lo || this.rowMax > this.hi)) this.widen();
    return this.processFeatures(this.features(this.scale(raw, k), k), k);
  }

  /** `remap`: the range becomes the rows' min/max; what was learned in the old one is re-expressed. */
  private widen(): void {
    const [lo, hi] = [this.lo, this.hi];
    const m = (this.online!.margin ?? 0) * (this.rowMax - this.rowMin);
    const [nlo, nhi] = [Math.min(lo, this.rowMin - m), Math.max(hi, this.rowMax + m)];
    // v (old units) -> (v·(hi − lo) + lo − nlo) / (nhi − nlo); a constant old range maps to one point.
    const a = (hi - lo) / (nhi - nlo);
    const b = (lo - nlo) / (nhi - nlo);
    const map = (v: number) => a * v + b;
    this.net.remapSamples(a, b);
    const fw = this.fWindow;
    for (let k = 0; k < WINDOW; k++) fw[k] = map(fw[k]!);
    // The median's histogram of levels, re-binned; the counts below/above it recounted.
    const levels = ARTIME_PARAMETERS.levels;
    const toLevel = (l: number) => Math.min(levels, Math.max(0, roundHalfEven(map(l / levels) * levels)));
    const old = Int32Array.from(this.medbin);
    this.medbin.fill(0);
    old.forEach((c, l) => {
      if (c > 0) this.medbin[toLevel(l)]! += c;
    });
    this.medlevel = toLevel(this.medlevel);
    this.belowmed = 0;
    this.abovemed = 0;
    this.medbin.forEach((c, l) => {
      if (l < this.medlevel) this.belowmed += c;
      else if (l > this.medlevel) this.abovemed += c;
    });
    this.lo = nlo;
    this.hi = nhi;
  }

  /** The downsampled value of the last `sstep` rows: their farthest extreme from a running average (a spike), else their mean. */
  private rawSample(): number {
    const w = this.dsWindow;
    const m = mean(w);
    let hi = -Infinity;
    let lo = Infinity;
    for (const v of w) {
      if (v > hi) hi = v;
      if (v < lo) lo = v;
    }
    if (this.dsi === 1) this.dsAverage = m;
    this.dsAverage = (this.dsAverage + m) / 2;
    let ds = hi;
    if (Math.abs(hi - this.dsAverage) < Math.abs(lo - this.dsAverage)) ds = lo; // a spike below
    if (Math.abs(ds - m) < 0.1 * m) ds = m; // a spike must be at least 10 %
    return ds;
  }

  /** Sample `ds` (the k-th) normalised with the range, discretised and snapped to the running median. */
  private scale(ds: number, k: number): number {
    const { lo, hi } = this;
    ds -= lo;
    if (hi - lo !== 0) ds /= hi - lo;
    if (this.online) ds = Math.min(1, Math.max(0, ds));
    const levels = ARTIME_PARAMETERS.levels;
    const level = roundHalfEven(ds * levels);
    ds = level / levels;
    // An approximate running median of the levels.
    const bin = this.medbin;
    bin[level]!++;
    const medpos = k >> 1;
    if (k === 1) this.medlevel = level;
    if (this.medlevel > level) this.belowmed++;
    else if (this.medlevel < level) this.abovemed++;
    if (medpos < this.abovemed) {
      this.belowmed += bin[this.medlevel]!;
      this.medlevel++;
      while (bin[this.medlevel] === 0) this.medlevel++;
      this.abovemed -= bin[this.medlevel]!;
    } else if (medpos < this.belowmed) {
      this.abovemed += bin[this.medlevel]!;
      this.medlevel--;
      while (bin[this.medlevel] === 0) this.medlevel--;
      this.belowmed -= bin[this.medlevel]!;
    }
    const med = this.medlevel / levels;
    if (Math.abs(ds - med) < ARTIME_PARAMETERS.discretizeChomp) ds = med;
    return ds;
  }

  /** Wavelet features of the last WINDOW samples beside the samples (zeros until WINDOW are in). */
  private features(ds: number, k: number): Float64Array {
    const fw = this.fWindow;
    fw.copyWithin(0, 1);
    fw[WINDOW - 1] = ds;
    const f = new Float64Array(DIM);
    if (k >= WINDOW) {
      const dw = Float64Array.from(fw);
      minMaxInPlace(dw);
      const wt = haarDwt8(dw, new Float64Array(WINDOW));
      minMaxInPlace(wt);
      f.set(wt, 0);
      f.set(fw, WINDOW);
    }
    return f;
  }

  private processFeatures(f: Float64Array, i: number): number {
    if (i > this.trendWindow) return this.detect(f, i);
    this.probationFeatures.push(f);
    if (i === this.trendWindow) {
      const rho = this.initialRho(this.probationFeatures.slice(WINDOW - 1));
      this.net.rhoLb = rho;
      this.net.rhoUb = rho;
      this.probationFeatures.forEach((ff, k) => this.detect(ff, k + 1));
      this.probationFeatures = [];
    }
    return 0;
  }

  /**
   * The initial vigilance: the probation's full feature windows, least typical first (by summed
   * cosine similarity to the others), train a scratch network at ρ 0.8; the mean best-match
   * similarity over the second half of them.
   */
  private initialRho(xs: Float64Array[]): number {
    const n = xs.length;
    const sum = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      sum[a] += 1;
      for (let b = 0; b < a; b++) {
        const s = similarity(xs[a]!, xs[b]!);
        sum[a] += s;
        sum[b] += s;
      }
    }
    const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => sum[a]! - sum[b]! || a - b);
    const net = new ARTimeNetwork();
    net.rhoLb = net.rhoUb = ARTIME_PARAMETERS.initialRho;
    const sims = order.map((k) => net.present(xs[k]!).similarity);
    return mean(sims.slice((this.trendWindow >> 1) - 1));
  }

  private detect(f: Float64Array, i: number): number {
    const net = this.net;
    const sinceAnomaly = i - this.lastAnomalyI;
    const updateAfterAnomaly = sinceAnomaly === MASK;
    const updateForTrend = i - this.lastRhoUpdateI >= this.trendWindow >> 1;
    const maskAfterAnomaly = sinceAnomaly <= MASK;
    if (i > this.trendWindow + MASK && this.maskAfterCat && this.noNewCatCount >= MASK)
      this.maskAfterCat = false;
    // Samples before the first full window are presented without learning.
    const r = net.present(f, i >= WINDOW);
    const newCat = i < WINDOW || r.newCluster;
    this.noNewCatCount = newCat ? 0 : this.noNewCatCount + 1;
    const a = r.similarity;
    this.simMean.add(a);
    this.simWindow.copyWithin(0, 1);
    this.simWindow[this.simWindow.length - 1] = a;
    this.simDiffWindow.copyWithin(0, 1);
    this.simDiffWindow[this.simDiffWindow.length - 1] = net.rhoUb - a;
    const hist = this.anomalySims;
    if (sinceAnomaly < MASK && hist.length > 0 && a < hist[hist.length - 1]!) hist[hist.length - 1] = a;
    const masking = this.maskAfterCat || maskAfterAnomaly;
    const belowLast = a < this.lastAnomalySim * (maskAfterAnomaly ? 0.9 : 0.7);
    let anomaly = 0;
    if (i > this.trendWindow && newCat && (!masking || belowLast)) {
      anomaly = this.confidence(a, r.energy);
      hist.push(a);
      this.lastAnomalySim = a;
      this.lastAnomalyI = i;
    }
    this.maskAfterCat = newCat || this.maskAfterCat;
    if (i > this.trendWindow && (updateAfterAnomaly || updateForTrend)) this.adaptVigilance(i);
    return anomaly;
  }

  private adaptVigilance(i: number): void {
    const net = this.net;
    let minSim = Infinity;
    for (const s of this.simWindow) if (s < minSim) minSim = s;
    const rhoUb = Math.min(0.97, this.simMean.mean);
    const prevLb = net.rhoLb;
    let rhoLb: number;
    if (prevLb <= minSim) rhoLb = prevLb + (minSim - prevLb) * 0.19;
    else {
      let decr = 0;
      if (i > this.trendWindow * 2) {
        const below: number[] = [];
        for (const d of this.simDiffWindow) if (d > 0.05) below.push(Math.min(0.37, d));
        if (below.length > 0) decr = mean(below);
      }
      decr = Math.max(0.01, decr);
      rhoLb = prevLb - decr / 2;
      if (this.anomalySims.length > 0) rhoLb = Math.max(mean(this.anomalySims), rhoLb);
    }
    net.rhoLb = Math.min(rhoUb, rhoLb);
    net.rhoUb = rhoUb;
    this.lastRhoUpdateI = i;
    this.maskAfterCat = true;
  }

  /** Confidence of an anomaly from its similarity below both vigilances and its energy mismatch. */
  private confidence(sim: number, energy: number): number {
    const fs = Math.min(0.999, sim);
    const ub = (1 - fs - (1 - this.net.rhoUb)) / (1 - fs);
    const lb = (1 - fs - (1 - this.net.rhoLb)) / (1 - fs);
    const s = Math.min(1, ub * 0.35 + lb * 0.65 + (1 - energy) * 1.5);
    return Math.round(s * 1e6) / 1e6;
  }
}
