// Quantile binning of features for histogram-based tree learning.

/**
 * Features cut into at most `maxBins` bins each. A value's bin is the index of the first
 * threshold it does not exceed (`x <= t`), so "bin <= k" is exactly "x <= thresholds[k]":
 * the float32 thresholds an exported tree compares against route every training row the way
 * training did. Missing values (NaN) take the last bin, right of every threshold, as ONNX
 * trees send NaN to the false branch.
 *
 * @example
 * const b = binFeatures(X, n, f, 64); b.bins[j * n + i]; // bin of row i, feature j
 */
export interface FeatureBins {
  /** Per feature, ascending float32 thresholds (at most maxBins − 1). */
  thresholds: Float32Array[];
  /** Column-major bin indexes: feature j of row i at `j * n + i`. */
  bins: Uint8Array | Uint16Array;
  n: number;
  f: number;
}

/**
 * Cuts each feature at (about) equal-count quantiles of its distinct values.
 *
 * @example
 * const bins = binFeatures(X, n, 15, 64);
 */
export function binFeatures(X: ArrayLike<number>, n: number, f: number, maxBins: number): FeatureBins {
  const bins = maxBins <= 256 ? new Uint8Array(n * f) : new Uint16Array(n * f);
  const thresholds: Float32Array[] = [];
  const column = new Float64Array(n);
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = X[i * f + j]!;
      if (!Number.isNaN(v)) column[m++] = v;
    }
    const t = cutPoints(column.subarray(0, m).sort(), maxBins);
    thresholds.push(t);
    for (let i = 0; i < n; i++) bins[j * n + i] = binOf(X[i * f + j]!, t);
  }
  return { thresholds, bins, n, f };
}

/** Index of the first threshold `x` does not exceed; NaN and values above all go last. */
function binOf(x: number, t: Float32Array): number {
  if (Number.isNaN(x)) return t.length;
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= t[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Midpoints between distinct sorted values: all of them when there are at most `maxBins`
 * distinct values, else where the running count crosses each of the maxBins quantiles.
 */
function cutPoints(sorted: Float64Array, maxBins: number): Float32Array {
  const m = sorted.length;
  let distinct = m > 0 ? 1 : 0;
  for (let i = 1; i < m; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const out: number[] = [];
  const cutAfter = (i: number): void => {
    const t = Math.fround((sorted[i]! + sorted[i + 1]!) / 2);
    if (out.length === 0 || t > out[out.length - 1]!) out.push(t);
  };
  let next = 1;
  for (let i = 0; i + 1 < m && out.length < maxBins - 1; i++) {
    if (sorted[i] === sorted[i + 1]) continue;
    if (distinct <= maxBins) cutAfter(i);
    else if ((i + 1) * maxBins >= next * m) {
      cutAfter(i);
      while (next * m <= (i + 1) * maxBins) next++;
    }
  }
  return Float32Array.from(out);
}
