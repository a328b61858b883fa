// The dual-vigilance fuzzy ART network at the heart of ARTime (see artime.ts), and how ARTime
// finds its initial vigilance with a scratch network.

import { ARTIME_PARAMETERS, DIM, DIM_COMP, WINDOW, mean } from './artime-features.js';

/** Outcome of one presentation to the ART network. */
export interface Match {
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

/**
 * The initial vigilance: the probation's full feature windows `xs`, least typical first (by
 * summed cosine similarity to the others), train a scratch network at ρ 0.8; the mean best-match
 * similarity over the second half of the probation's `trendWindow` samples.
 */
export function initialVigilance(xs: Float64Array[], trendWindow: number): number {
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
  return mean(sims.slice((trendWindow >> 1) - 1));
}
