// Argument checks and column statistics shared by the MLP and gradient-boosting trainers.
import { InvalidArgumentError } from '../errors.js';

/**
 * Checks a row-major n × f matrix and its labels; returns n. With `binary`, labels must be 0/1
 * and both present; `allowNaN` lets missing features through (trees route them).
 *
 * @example
 * const n = checkDataset(X, y, 15, { binary: true });
 */
export function checkDataset(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  f: number,
  opts: { binary: boolean; allowNaN?: boolean },
): number {
  if (!Number.isInteger(f) || f < 1)
    throw new InvalidArgumentError(`f is ${f}: pass the number of features, a positive integer`);
  const n = X.length / f;
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(
      `X has ${X.length} values, not a whole number of rows of ${f} features: pass a row-major n × f matrix`,
    );
  if (y.length !== n)
    throw new InvalidArgumentError(`y has ${y.length} labels but X has ${n} rows: pass one label per row`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const label = y[i]!;
    if (opts.binary && label !== 0 && label !== 1)
      throw new InvalidArgumentError(`y[${i}] is ${label}: labels must be 0 or 1`);
    if (!Number.isFinite(label)) throw new InvalidArgumentError(`y[${i}] is ${label}: pass finite targets`);
    positives += label;
  }
  if (opts.binary && (positives === 0 || positives === n))
    throw new InvalidArgumentError(
      `y has only label ${positives === 0 ? 0 : 1}: a binary classifier needs rows of both labels`,
    );
  for (let k = 0; k < X.length; k++) {
    const v = X[k]!;
    if (Number.isFinite(v) || (opts.allowNaN === true && Number.isNaN(v))) continue;
    throw new InvalidArgumentError(
      `X[${k}] (row ${Math.floor(k / f)}, feature ${k % f}) is ${v}: impute missing values first`,
    );
  }
  return n;
}

/**
 * Per-feature mean and standard deviation (a constant column gets std 1).
 *
 * @example
 * const { mean, std } = columnStats(X, n, f);
 */
export function columnStats(
  X: ArrayLike<number>,
  n: number,
  f: number,
): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j]! += X[i * f + j]!;
  for (let j = 0; j < f; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      const dev = X[i * f + j]! - mean[j]!;
      std[j]! += dev * dev;
    }
  }
  for (let j = 0; j < f; j++) {
    const s = Math.sqrt(std[j]! / n);
    std[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j]!)) ? s : 1;
  }
  return { mean, std };
}

// The seeded PRNG lives in core (one for the whole project); trainers import it from here.
export { seededRandom } from '../../core/random.js';

/**
 * Checks that an option is an integer >= `min`.
 *
 * @example
 * intOption('epochs', 20, 1);
 */
export function intOption(label: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min)
    throw new InvalidArgumentError(`${label} is ${v}: pass an integer >= ${min}`);
}

/**
 * Checks that an option is a finite number > 0 (or >= 0 with `allowZero`).
 *
 * @example
 * positiveOption('learningRate', 0.1);
 */
export function positiveOption(label: string, v: number, allowZero = false): void {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
    throw new InvalidArgumentError(`${label} is ${v}: pass a finite number ${allowZero ? '>=' : '>'} 0`);
}
