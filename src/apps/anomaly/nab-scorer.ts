/**
 * The Numenta Anomaly Benchmark's scoring, implemented from its published rules (Lavin &
 * Ahmad, "Evaluating Real-time Anomaly Detection Algorithms — the Numenta Anomaly Benchmark",
 * 2015, and the NAB whitepaper), with the constants of NAB's reference code (`nab/sweeper.py`,
 * `nab/runner.py`) where the paper leaves them open:
 *
 * - a detection is a row whose anomaly score is >= the threshold;
 * - rows in the probationary period (the first 15 % of a file, at most 750 rows) are not scored;
 * - inside a window only the earliest detection counts, worth A_TP·σ(y)/σ(−1) where y is its position
 *   relative to the window's end (−1 at the first row, → 0 at the last) and
 *   σ(y) = 2/(1 + e^{5y}) − 1, the scaled sigmoid (so the first row is worth exactly A_TP);
 *   later detections in the window are ignored;
 * - a window without a detection costs A_FN;
 * - a detection outside every window costs A_FP·σ(y) with y its distance past the end of the
 *   preceding window in (window length − 1) rows (σ → −1 far away, ≈ 0 right after a window), or the full
 *   −A_FP when no window precedes it;
 * - the corpus' raw score is the sum over files, normalised so that the null detector (never
 *   fires) scores 0 and the perfect one (fires on the first row of every window, A_TP each)
 *   scores 100;
 * - the threshold is chosen per profile to maximise the corpus' score: one threshold for all
 *   files, swept over every distinct anomaly score.
 */
import type { NabProfile } from './nab-corpus.js';

/** NAB's scaled sigmoid: +0.987 at y = −1, 0 at y = 0, → −1 as y grows. */
export function scaledSigmoid(y: number): number {
  if (y >= 3) return -1; // NAB flattens the far tail to exactly −1
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/** σ(−1), the worth of a detection on a window's first row: NAB divides by it, so that row is worth A_TP. */
const MAX_TP = scaledSigmoid(-1);

/** Rows at the start of a file that are not scored: 15 % of it, at most 750. */
export function probationRows(length: number, percent = 0.15): number {
  return Math.min(Math.floor(percent * length), Math.floor(percent * 5000));
}

/** One labelled file: its rows' times and its anomaly windows (inclusive epoch-ms bounds). */
export interface ScoredSeries {
  name: string;
  times: ArrayLike<number>;
  windows: readonly (readonly [number, number])[];
  scores: ArrayLike<number>;
}

export interface NabResult {
  /** Normalised score: 0 = never detects, 100 = perfect. */
  score: number;
  threshold: number;
  raw: number;
  tp: number;
  fp: number;
  fn: number;
}

/** Per row: the window it lies in (−1 for none) and what a detection there is worth (0 in probation). */
interface RowPlan {
  window: Int32Array;
  value: Float64Array;
  windows: number;
  probation: number;
}

function planRows(s: Omit<ScoredSeries, 'scores'>, p: NabProfile): RowPlan {
  const n = s.times.length;
  const window = new Int32Array(n).fill(-1);
  const value = new Float64Array(n);
  const bounds: [number, number][] = []; // row ranges of the windows, in time order
  const sorted = [...s.windows].sort((a, b) => a[0] - b[0]);
  for (const [start, end] of sorted) {
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < n; i++) {
      const t = s.times[i]!;
      if (t >= start && t <= end) {
        if (lo < 0) lo = i;
        hi = i;
      }
    }
    if (lo >= 0) bounds.push([lo, hi]);
  }
  const probation = probationRows(n);
  let w = 0;
  let previous: [number, number] | undefined;
  for (let i = 0; i < n; i++) {
    while (w < bounds.length && i > bounds[w]![1]) previous = bounds[w++];
    const cur = bounds[w];
    if (cur && i >= cur[0]) {
      const width = cur[1] - cur[0] + 1;
      window[i] = w;
      value[i] = (p.tpWeight * scaledSigmoid(-(cur[1] - i + 1) / width)) / MAX_TP;
    } else if (previous) {
      // NAB measures the distance past a window in (width − 1) rows.
      const width = Math.max(1, previous[1] - previous[0]);
      value[i] = p.fpWeight * scaledSigmoid((i - previous[1]) / width);
    } else value[i] = -p.fpWeight;
    if (i < probation) value[i] = 0;
  }
  return { window, value, windows: bounds.length, probation };
}

/** Raw NAB score of one file for a set of detections (rows with score >= threshold). */
export function rawScore(s: ScoredSeries, p: NabProfile, threshold: number): Omit<NabResult, 'score'> {
  const plan = planRows(s, p);
  const firstHit = new Float64Array(plan.windows).fill(NaN);
  let raw = 0;
  let fp = 0;
  for (let i = plan.probation; i < s.times.length; i++) {
    if (!(s.scores[i]! >= threshold)) continue;
    const w = plan.window[i]!;
    if (w >= 0) {
      if (Number.isNaN(firstHit[w]!)) firstHit[w] = plan.value[i]!;
    } else {
      raw += plan.value[i]!;
      fp++;
    }
  }
  let tp = 0;
  for (const v of firstHit) {
    if (Number.isNaN(v)) raw -= p.fnWeight;
    else {
      raw += v;
      tp++;
    }
  }
  return { raw, threshold, tp, fp, fn: plan.windows - tp };
}

/** The perfect and null raw scores of a corpus: the ends of the 0–100 scale. */
export function nabBounds(
  series: Omit<ScoredSeries, 'scores'>[],
  p: NabProfile,
): { perfect: number; none: number } {
  let windows = 0;
  for (const s of series) windows += planRows(s, p).windows;
  return { perfect: windows * p.tpWeight, none: -windows * p.fnWeight };
}

const normalise = (raw: number, b: { perfect: number; none: number }) =>
  b.perfect === b.none ? 0 : (100 * (raw - b.none)) / (b.perfect - b.none);

/** The corpus' normalised score at one threshold. */
export function nabScore(series: ScoredSeries[], p: NabProfile, threshold: number): NabResult {
  const total = { raw: 0, tp: 0, fp: 0, fn: 0 };
  for (const s of series) {
    const r = rawScore(s, p, threshold);
    total.raw += r.raw;
    total.tp += r.tp;
    total.fp += r.fp;
    total.fn += r.fn;
  }
  return { ...total, threshold, score: normalise(total.raw, nabBounds(series, p)) };
}

/**
 * The best corpus score over all thresholds, as NAB chooses it: every distinct anomaly score is
 * tried (rows flip to detections from the highest score down, each window keeping its earliest
 * detection), and the threshold with the highest total wins. O(rows · log rows).
 */
export function optimizeThreshold(series: ScoredSeries[], p: NabProfile): NabResult {
  const plans = series.map((s) => planRows(s, p));
  let n = 0;
  for (let f = 0; f < series.length; f++) n += series[f]!.times.length - plans[f]!.probation;
  // Candidate rows, sorted by score descending; rows in probation never count.
  const file = new Int32Array(n);
  const row = new Int32Array(n);
  const score = new Float64Array(n);
  let k = 0;
  let windowBase = 0;
  const windowOffset: number[] = [];
  for (let f = 0; f < series.length; f++) {
    windowOffset.push(windowBase);
    windowBase += plans[f]!.windows;
    const s = series[f]!;
    for (let i = plans[f]!.probation; i < s.times.length; i++) {
      file[k] = f;
      row[k] = i;
      score[k++] = Number.isNaN(s.scores[i]!) ? -Infinity : s.scores[i]!;
    }
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => score[b]! - score[a]!);

  const earliest = new Int32Array(windowBase).fill(-1);
  let total = -windowBase * p.fnWeight;
  let best = { raw: total, threshold: Infinity };
  for (let a = 0; a < n;) {
    const level = score[order[a]!]!;
    if (level === -Infinity) break;
    let b = a;
    while (b < n && score[order[b]!] === level) {
      const c = order[b++]!;
      const plan = plans[file[c]!]!;
      const i = row[c]!;
      const w = plan.window[i]!;
      if (w < 0) total += plan.value[i]!;
      else {
        const g = windowOffset[file[c]!]! + w;
        const prev = earliest[g]!;
        if (prev < 0) {
          total += p.fnWeight + plan.value[i]!;
          earliest[g] = i;
        } else if (i < prev) {
          total += plan.value[i]! - plan.value[prev]!;
          earliest[g] = i;
        }
      }
    }
    // Strictly better only: among equal totals the highest threshold (fewest detections) wins.
    if (total > best.raw + 1e-12) best = { raw: total, threshold: level };
    a = b;
  }
  return nabScore(series, p, best.threshold);
}
