// ARTime's numbers and the arithmetic of its features (see artime.ts for the algorithm): its
// published parameters, the Haar wavelet of a window of samples, Julia's rounding and means.

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

/** Samples in a feature window. */
export const WINDOW = ARTIME_PARAMETERS.window;
/** Features: the window's wavelet transform beside its samples. */
export const DIM = 2 * WINDOW;
/** Complement-coded features, as the ART network holds them. */
export const DIM_COMP = 2 * DIM;
const SQRT_HALF = 0.7071067811865475;

/** Julia's `round(Int, x)`: to nearest, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Re-bins a histogram of discretisation levels (0..ARTIME_PARAMETERS.levels) in place for a new
 * range, a normalised value v becoming `map(v)`; returns the level → new level map it used.
 */
export function rebinLevels(bin: Int32Array, map: (v: number) => number): (level: number) => number {
  const levels = ARTIME_PARAMETERS.levels;
  const toLevel = (l: number) => Math.min(levels, Math.max(0, roundHalfEven(map(l / levels) * levels)));
  const old = Int32Array.from(bin);
  bin.fill(0);
  old.forEach((c, l) => {
    if (c > 0) bin[toLevel(l)]! += c;
  });
  return toLevel;
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

/**
 * The features of a full window of samples `fw` (length WINDOW): its min-max normalised Haar
 * transform, min-max normalised again, beside the samples themselves.
 */
export function waveletFeatures(fw: Float64Array, out: Float64Array): Float64Array {
  const dw = Float64Array.from(fw);
  minMaxInPlace(dw);
  const wt = haarDwt8(dw, new Float64Array(WINDOW));
  minMaxInPlace(wt);
  out.set(wt, 0);
  out.set(fw, WINDOW);
  return out;
}

/** Julia's equal-weight online mean (OnlineStats.Mean). */
export class RunningMean {
  n = 0;
  mean = 0;
  add(x: number): void {
    this.n++;
    this.mean += (1 / this.n) * (x - this.mean);
  }
}

/** The arithmetic mean. */
export function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s / v.length;
}
