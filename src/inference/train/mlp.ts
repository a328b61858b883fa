import { InvalidArgumentError } from '../errors.js';
import { checkDataset, columnStats, intOption, positiveOption, seededRandom } from './dataset.js';
import { sigmoid, softplus } from './linear-algebra.js';

/**
 * Options of {@link trainMlp}.
 *
 * @example
 * const opts: MlpOptions = { hidden: 16, epochs: 30, optimizer: 'adam', learningRate: 0.01, seed: 7 };
 */
export interface MlpOptions {
  /** Hidden units (one ReLU layer); default 16. */
  hidden?: number;
  /** Passes over the data; default 20. */
  epochs?: number;
  /** Rows per gradient step; default 64. */
  batchSize?: number;
  /** Default `adam`. */
  optimizer?: 'adam' | 'sgd';
  /** Default 0.01 (adam) or 0.1 (sgd). */
  learningRate?: number;
  /** SGD momentum; default 0.9. */
  momentum?: number;
  /** L2 penalty on the weights (not biases); default 1e-4. */
  l2?: number;
  /** Seeds the initial weights and the row order of every epoch; default 1. */
  seed?: number;
  /** `balanced` weighs each class by n / (2 · its count). */
  classWeight?: 'balanced';
}

/**
 * A fitted one-hidden-layer network for binary classification:
 * `p = σ(b2 + W2 · relu(b1 + W1ᵀ · (x − mean) / std))`.
 *
 * @example
 * const fit: MlpFit = trainMlp(X, y, 15);
 * const p = fit.predict(row);
 */
export interface MlpFit {
  features: number;
  hidden: number;
  /** Input → hidden weights, row-major [features][hidden], over standardized features. */
  W1: Float64Array;
  b1: Float64Array;
  /** Hidden → output weights [hidden]. */
  W2: Float64Array;
  b2: number;
  mean: Float64Array;
  std: Float64Array;
  /** Mean weighted log-loss over the training rows after the last epoch. */
  loss: number;
  predict(row: ArrayLike<number>): number;
  predictBatch(X: ArrayLike<number>, n: number): Float64Array;
}

/**
 * Trains a small MLP (one ReLU hidden layer, sigmoid output, log-loss) by mini-batch Adam or
 * SGD with momentum, on standardized features. Deterministic: He-initialized weights and the
 * per-epoch shuffles come from `seed`, so the same data and options give the same bits.
 *
 * @example
 * const fit = trainMlp(X, y, 15, { hidden: 16, epochs: 30, seed: 3 });
 * const model = await OnnxModel.load(exportMlp(fit));
 */
export function trainMlp(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  f: number,
  opts: MlpOptions = {},
): MlpFit {
  const n = checkDataset(X, y, f, { binary: true });
  const { hidden: h = 16, epochs = 20, batchSize = 64, optimizer = 'adam', l2 = 1e-4, seed = 1 } = opts;
  const lr = opts.learningRate ?? (optimizer === 'adam' ? 0.01 : 0.1);
  const momentum = opts.momentum ?? 0.9;
  intOption('hidden', h, 1);
  intOption('epochs', epochs, 1);
  intOption('batchSize', batchSize, 1);
  positiveOption('learningRate', lr);
  positiveOption('l2', l2, true);
  if (optimizer !== 'adam' && optimizer !== 'sgd')
    throw new InvalidArgumentError(`optimizer is "${String(optimizer)}": pass adam or sgd`);
  if (!(momentum >= 0 && momentum < 1))
    throw new InvalidArgumentError(`momentum is ${momentum}: pass [0, 1)`);
  const { mean, std } = columnStats(X, n, f);
  const Z = new Float64Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) Z[i * f + j] = (X[i * f + j]! - mean[j]!) / std[j]!;
  const weight = rowWeights(y, n, opts.classWeight);

  const rand = seededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // params = [W1 (f*h), b1 (h), W2 (h), b2 (1)], one flat array so the optimizer is one loop
  const P = f * h + h + h + 1;
  const params = new Float64Array(P);
  const oB1 = f * h;
  const oW2 = oB1 + h;
  const oB2 = oW2 + h;
  for (let k = 0; k < f * h; k++) params[k] = normal() * Math.sqrt(2 / f);
  for (let k = 0; k < h; k++) params[oW2 + k] = normal() * Math.sqrt(2 / h);
  const grad = new Float64Array(P);
  const m1 = new Float64Array(P);
  const m2 = new Float64Array(P);
  const z1 = new Float64Array(h);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  let step = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      grad.fill(0);
      let batchWeight = 0;
      for (let b = start; b < end; b++) {
        const r = order[b]!;
        const w = weight[r]!;
        batchWeight += w;
        const p = forward(params, Z, r * f, f, h, z1);
        const dz2 = (p - y[r]!) * w;
        grad[oB2]! += dz2;
        for (let k = 0; k < h; k++) {
          if (z1[k]! <= 0) continue;
          grad[oW2 + k]! += z1[k]! * dz2;
          const dz1 = params[oW2 + k]! * dz2;
          grad[oB1 + k]! += dz1;
          for (let j = 0; j < f; j++) grad[j * h + k]! += Z[r * f + j]! * dz1;
        }
      }
      for (let k = 0; k < P; k++) {
        grad[k]! /= batchWeight;
        if (k < oB1 || (k >= oW2 && k < oB2)) grad[k]! += l2 * params[k]!;
      }
      step++;
      if (optimizer === 'adam') {
        const c1 = 1 - 0.9 ** step;
        const c2 = 1 - 0.999 ** step;
        for (let k = 0; k < P; k++) {
          m1[k] = 0.9 * m1[k]! + 0.1 * grad[k]!;
          m2[k] = 0.999 * m2[k]! + 0.001 * grad[k]! * grad[k]!;
          params[k]! -= (lr * (m1[k]! / c1)) / (Math.sqrt(m2[k]! / c2) + 1e-8);
        }
      } else {
        for (let k = 0; k < P; k++) {
          m1[k] = momentum * m1[k]! - lr * grad[k]!;
          params[k]! += m1[k]!;
        }
      }
    }
  }

  let loss = 0;
  let total = 0;
  for (let r = 0; r < n; r++) {
    const logit = logitOf(params, Z, r * f, f, h, z1);
    loss += weight[r]! * (softplus(logit) - y[r]! * logit);
    total += weight[r]!;
  }
  const fit = {
    features: f,
    hidden: h,
    W1: params.slice(0, oB1),
    b1: params.slice(oB1, oW2),
    W2: params.slice(oW2, oB2),
    b2: params[oB2]!,
    mean,
    std,
    loss: loss / total,
  };
  const row = new Float64Array(f);
  const predictAt = (Xb: ArrayLike<number>, at: number): number => {
    for (let j = 0; j < f; j++) row[j] = (Xb[at + j]! - mean[j]!) / std[j]!;
    return forward(params, row, 0, f, h, z1);
  };
  return {
    ...fit,
    predict: (r) => {
      if (r.length !== f)
        throw new InvalidArgumentError(`row has ${r.length} values: pass exactly ${f} features`);
      return predictAt(r, 0);
    },
    predictBatch: (Xb, rows) => {
      if (!Number.isInteger(rows) || rows < 0 || Xb.length !== rows * f)
        throw new InvalidArgumentError(`X has ${Xb.length} values, not ${rows} rows × ${f} features`);
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) out[i] = predictAt(Xb, i * f);
      return out;
    },
  };
}

/** Output logit for one standardized row; leaves the hidden activations (post-ReLU) in `z1`. */
function logitOf(
  params: Float64Array,
  Z: ArrayLike<number>,
  at: number,
  f: number,
  h: number,
  z1: Float64Array,
): number {
  const oB1 = f * h;
  const oW2 = oB1 + h;
  let out = params[oW2 + h]!;
  for (let k = 0; k < h; k++) {
    let s = params[oB1 + k]!;
    for (let j = 0; j < f; j++) s += Z[at + j]! * params[j * h + k]!;
    const a = s > 0 ? s : 0;
    z1[k] = a;
    out += a * params[oW2 + k]!;
  }
  return out;
}

function forward(
  params: Float64Array,
  Z: ArrayLike<number>,
  at: number,
  f: number,
  h: number,
  z1: Float64Array,
): number {
  return sigmoid(logitOf(params, Z, at, f, h, z1));
}

function rowWeights(y: ArrayLike<number>, n: number, classWeight: 'balanced' | undefined): Float64Array {
  if (classWeight !== undefined && classWeight !== 'balanced')
    throw new InvalidArgumentError(
      `classWeight is "${String(classWeight)}": pass 'balanced' or leave it out`,
    );
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++)
    w[i] = classWeight === 'balanced' ? n / (2 * (y[i] === 1 ? positives : n - positives)) : 1;
  return w;
}
