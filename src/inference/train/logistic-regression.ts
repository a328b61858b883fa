import { InvalidArgumentError } from '../errors.js';
import { columnStats } from './dataset.js';
import { choleskySolve, sigmoid, softplus } from './linear-algebra.js';

/**
 * Options of {@link trainLogisticRegression}.
 *
 * @example
 * const opts: LogisticRegressionOptions = { l2: 1e-3, classWeight: 'balanced' };
 */
export interface LogisticRegressionOptions {
  /** L2 penalty on the (standardized) weights, not on the bias; default 1e-4. */
  l2?: number;
  /** Most Newton steps; default 100. */
  maxIter?: number;
  /** Stop when every gradient component is below this; default 1e-8. */
  tol?: number;
  /** `balanced` weighs each class by n / (2 · its count), as scikit-learn does. */
  classWeight?: 'balanced';
  /** Fit on standardized features (then folded back); default true. */
  standardize?: boolean;
}

/**
 * A fitted binary logistic regression, in the original feature space.
 *
 * @example
 * const fit: LogisticRegressionFit = trainLogisticRegression(X, y, 15);
 * const p = fit.predict(row);
 */
export interface LogisticRegressionFit {
  /** One weight per feature, standardization folded in: score = σ(bias + Σ weights·x). */
  weights: Float64Array;
  bias: number;
  /** Feature means and standard deviations used for fitting (std 0 stored as 1). */
  mean: Float64Array;
  std: Float64Array;
  /**
   * The same model before folding: weights and bias over standardized features, with the
   * mean/std to apply (absent when `standardize` was false). Ready for `exportLogisticRegression`,
   * whose centered graph is more precise in float32 than the folded `weights`.
   */
  standardized: { weights: Float64Array; bias: number; mean?: Float64Array; std?: Float64Array };
  /** Newton steps taken. */
  iterations: number;
  /** Whether the gradient fell below `tol` within `maxIter` steps. */
  converged: boolean;
  /** Final objective: weighted mean log-loss + l2/2 · |standardized weights|². */
  loss: number;
  /** Probability of label 1 for one row of `f` raw features. */
  predict(row: ArrayLike<number>): number;
  /** Probabilities for `n` rows of a row-major n × f matrix. */
  predictBatch(X: ArrayLike<number>, n: number): Float64Array;
}

/**
 * Fits a binary logistic regression by Newton's method (IRLS) with a backtracking line search:
 * each step solves the (f+1)×(f+1) Hessian system by Cholesky, so ~10 steps converge for
 * small f. Deterministic: same inputs, same bits out.
 *
 * @example
 * const fit = trainLogisticRegression(X, y, 15, { classWeight: 'balanced' });
 * const p = fit.predict(X.subarray(0, 15));
 */
export function trainLogisticRegression(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  f: number,
  opts: LogisticRegressionOptions = {},
): LogisticRegressionFit {
  const { l2 = 1e-4, maxIter = 100, tol = 1e-8, classWeight, standardize = true } = opts;
  const n = checkArguments(X, y, f, l2, maxIter, tol, classWeight);
  const { mean, std } = standardize
    ? columnStats(X, n, f)
    : { mean: new Float64Array(f), std: new Float64Array(f).fill(1) };
  const rowWeight = sampleWeights(y, n, classWeight);
  const d = f + 1; // theta = [bias, beta_1..beta_f] over standardized features
  const z = new Float64Array(d);
  const row = (i: number): Float64Array => {
    z[0] = 1;
    for (let j = 0; j < f; j++) z[j + 1] = (X[i * f + j]! - mean[j]!) / std[j]!;
    return z;
  };
  const objective = (theta: Float64Array): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const eta = dot(theta, row(i), d);
      sum += rowWeight[i]! * (softplus(eta) - y[i]! * eta);
    }
    let penalty = 0;
    for (let j = 1; j < d; j++) penalty += theta[j]! * theta[j]!;
    return sum + (l2 / 2) * penalty;
  };

  let theta = new Float64Array(d);
  let loss = objective(theta);
  let iterations = 0;
  let converged = false;
  while (true) {
    const grad = new Float64Array(d);
    const hess = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const zi = row(i);
      const p = sigmoid(dot(theta, zi, d));
      const r = rowWeight[i]! * (p - y[i]!);
      const h = rowWeight[i]! * p * (1 - p);
      for (let a = 0; a < d; a++) {
        grad[a]! += r * zi[a]!;
        const hz = h * zi[a]!;
        for (let b = 0; b <= a; b++) hess[a * d + b]! += hz * zi[b]!;
      }
    }
    for (let j = 1; j < d; j++) {
      grad[j]! += l2 * theta[j]!;
      hess[j * d + j]! += l2;
    }
    if (maxAbs(grad) < tol) {
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;
    const step = solveDamped(hess, d, grad);
    const slope = dot(grad, step, d);
    let t = 1;
    let next = theta;
    let nextLoss = loss;
    for (let k = 0; k < 40; k++, t /= 2) {
      next = theta.map((v, a) => v - t * step[a]!);
      nextLoss = objective(next);
      if (nextLoss <= loss - 1e-4 * t * slope) break;
    }
    iterations++;
    if (!(nextLoss < loss)) {
      // no descent left at machine precision: theta is as good as float64 allows
      converged = maxAbs(grad) < Math.sqrt(tol);
      break;
    }
    theta = next;
    loss = nextLoss;
  }

  const weights = new Float64Array(f);
  let bias = theta[0]!;
  for (let j = 0; j < f; j++) {
    weights[j] = theta[j + 1]! / std[j]!;
    bias -= weights[j]! * mean[j]!;
  }
  const predict = (r: ArrayLike<number>, offset = 0): number => {
    let s = bias;
    for (let j = 0; j < f; j++) s += weights[j]! * r[offset + j]!;
    return sigmoid(s);
  };
  const standardized = { weights: theta.slice(1), bias: theta[0]!, ...(standardize ? { mean, std } : {}) };
  return {
    weights,
    bias,
    mean,
    std,
    standardized,
    iterations,
    converged,
    loss,
    predict: (r) => {
      if (r.length !== f)
        throw new InvalidArgumentError(`row has ${r.length} values: pass exactly ${f} features`);
      return predict(r);
    },
    predictBatch: (Xb, rows) => {
      if (!Number.isInteger(rows) || rows < 0 || Xb.length !== rows * f) {
        throw new InvalidArgumentError(
          `X has ${Xb.length} values, not ${rows} rows × ${f} features: pass a row-major n × ${f} matrix`,
        );
      }
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) out[i] = predict(Xb, i * f);
      return out;
    },
  };
}

function checkArguments(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  f: number,
  l2: number,
  maxIter: number,
  tol: number,
  classWeight: string | undefined,
): number {
  if (!Number.isInteger(f) || f < 1)
    throw new InvalidArgumentError(`f is ${f}: pass the number of features, a positive integer`);
  const n = X.length / f;
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(
      `X has ${X.length} values, not a whole number of rows of ${f} features: pass a row-major n × f matrix`,
    );
  }
  if (y.length !== n)
    throw new InvalidArgumentError(`y has ${y.length} labels but X has ${n} rows: pass one label per row`);
  if (!(l2 >= 0) || !Number.isFinite(l2))
    throw new InvalidArgumentError(`l2 is ${l2}: pass a finite number >= 0`);
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new InvalidArgumentError(`maxIter is ${maxIter}: pass a positive integer`);
  if (!(tol > 0)) throw new InvalidArgumentError(`tol is ${tol}: pass a positive number`);
  if (classWeight !== undefined && classWeight !== 'balanced') {
    throw new InvalidArgumentError(`classWeight is "${classWeight}": pass 'balanced' or leave it out`);
  }
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const label = y[i];
    if (label !== 0 && label !== 1)
      throw new InvalidArgumentError(`y[${i}] is ${label}: labels must be 0 or 1`);
    positives += label;
  }
  if (positives === 0 || positives === n) {
    throw new InvalidArgumentError(
      `y has only label ${positives === 0 ? 0 : 1}: a binary classifier needs rows of both labels`,
    );
  }
  for (let k = 0; k < X.length; k++) {
    if (!Number.isFinite(X[k]))
      throw new InvalidArgumentError(
        `X[${k}] (row ${Math.floor(k / f)}, feature ${k % f}) is ${X[k]}: impute missing values first`,
      );
  }
  return n;
}

/** Per-row weights normalized to sum to 1, so `l2` means the same for any n. */
function sampleWeights(y: ArrayLike<number>, n: number, classWeight: 'balanced' | undefined): Float64Array {
  const w = new Float64Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  for (let i = 0; i < n; i++) {
    w[i] = classWeight === 'balanced' ? 1 / (2 * (y[i] === 1 ? positives : n - positives)) : 1 / n;
  }
  return w;
}

function solveDamped(hess: Float64Array, d: number, grad: Float64Array): Float64Array {
  let jitter = 0;
  for (let attempt = 0; attempt < 30; attempt++) {
    const a = jitter === 0 ? hess : hess.map((v, k) => (k % (d + 1) === 0 ? v + jitter : v));
    const step = choleskySolve(a, d, grad);
    if (step !== undefined) return step;
    // a flat direction (e.g. perfectly separated data with l2 = 0): damp like Levenberg–Marquardt
    jitter = jitter === 0 ? 1e-10 : jitter * 10;
  }
  return grad.slice(); // gradient descent as a last resort
}

function dot(a: Float64Array, b: Float64Array, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[k]! * b[k]!;
  return s;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}
