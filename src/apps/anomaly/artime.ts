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

import {
  ARTIME_PARAMETERS,
  DIM,
  RunningMean,
  WINDOW,
  mean,
  rebinLevels,
  roundHalfEven,
  waveletFeatures,
} from './artime-features.js';
import { ARTimeNetwork, initialVigilance } from './artime-network.js';
import { decodeState, encodeState } from './state-codec.js';

export { ARTIME_PARAMETERS, haarDwt8 } from './artime-features.js';
export { ARTimeNetwork } from './artime-network.js';

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

/** Samples after an anomaly during which new anomalies are masked, and after which ρ updates. */
const MASK = Math.floor(WINDOW * 1.5);

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
    this.medlevel = rebinLevels(this.medbin, map)(this.medlevel);
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
    return k >= WINDOW ? waveletFeatures(fw, f) : f;
  }

  private processFeatures(f: Float64Array, i: number): number {
    if (i > this.trendWindow) return this.detect(f, i);
    this.probationFeatures.push(f);
    if (i === this.trendWindow) {
      const rho = initialVigilance(this.probationFeatures.slice(WINDOW - 1), this.trendWindow);
      this.net.rhoLb = rho;
      this.net.rhoUb = rho;
      this.probationFeatures.forEach((ff, k) => this.detect(ff, k + 1));
      this.probationFeatures = [];
    }
    return 0;
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
