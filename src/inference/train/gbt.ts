import { InvalidArgumentError } from '../errors.js';
import { checkDataset, intOption, positiveOption } from './dataset.js';
import { binFeatures } from './histogram-bins.js';
import { sigmoid } from './linear-algebra.js';
import { growTree, treeValue, type RegressionTree } from './regression-tree.js';

/**
 * Options of {@link trainGradientBoostedTrees}.
 *
 * @example
 * const opts: GbtOptions = { nEstimators: 100, learningRate: 0.1, maxDepth: 3, maxBins: 64 };
 */
export interface GbtOptions {
  /** `logistic` (binary 0/1 labels, default) or `squared` (regression). */
  loss?: 'logistic' | 'squared';
  /** Trees; default 100. */
  nEstimators?: number;
  /** Shrinkage of each tree; default 0.1. */
  learningRate?: number;
  /** Default 3. */
  maxDepth?: number;
  /** Histogram bins per feature (2–65 536); default 64. */
  maxBins?: number;
  /** Least rows in a leaf; default 20. */
  minSamplesLeaf?: number;
  /** Least hessian sum in a leaf; default 1e-3. */
  minChildWeight?: number;
  /** L2 penalty on leaf values; default 1. */
  l2?: number;
}

/**
 * A fitted gradient-boosted tree ensemble: `margin = baseScore + Σ tree(x)`, and for the
 * logistic loss `p = σ(margin)`.
 *
 * @example
 * const fit: GbtFit = trainGradientBoostedTrees(X, y, 15);
 * const p = fit.predict(row);
 */
export interface GbtFit {
  loss: 'logistic' | 'squared';
  features: number;
  /** Initial margin (float32-exact): log-odds of the label mean, or the target mean. */
  baseScore: number;
  trees: RegressionTree[];
  /** Mean training loss after each tree. */
  lossHistory: Float64Array;
  /** The margin (raw score) of one row. */
  predictMargin(row: ArrayLike<number>): number;
  /** Probability of label 1 (logistic) or the prediction (squared) for one row. */
  predict(row: ArrayLike<number>): number;
  /** `predict` for n rows of a row-major n × f matrix. */
  predictBatch(X: ArrayLike<number>, n: number): Float64Array;
}

/**
 * Trains gradient-boosted regression trees with second-order (Newton) steps: each tree is
 * depth-limited and grown on histograms of gradients over quantile bins of the features
 * (`maxBins`), as LightGBM and XGBoost's `hist` method do. Missing values (NaN) are allowed
 * and routed right. Deterministic: no sampling, ties broken by feature then bin order.
 * Export with `exportTreeEnsembleClassifier` or `exportTreeEnsembleRegressor`.
 *
 * @example
 * const fit = trainGradientBoostedTrees(X, y, 15, { nEstimators: 50, maxDepth: 3 });
 * const model = await OnnxModel.load(exportTreeEnsembleClassifier(fit));
 */
export function trainGradientBoostedTrees(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  f: number,
  opts: GbtOptions = {},
): GbtFit {
  const { loss = 'logistic', nEstimators = 100, learningRate = 0.1, maxDepth = 3, maxBins = 64 } = opts;
  const { minSamplesLeaf = 20, minChildWeight = 1e-3, l2 = 1 } = opts;
  if (loss !== 'logistic' && loss !== 'squared')
    throw new InvalidArgumentError(`loss is "${String(loss)}": pass logistic or squared`);
  const n = checkDataset(X, y, f, { binary: loss === 'logistic', allowNaN: true });
  intOption('nEstimators', nEstimators, 1);
  intOption('maxDepth', maxDepth, 0);
  intOption('minSamplesLeaf', minSamplesLeaf, 1);
  positiveOption('learningRate', learningRate);
  positiveOption('minChildWeight', minChildWeight, true);
  positiveOption('l2', l2, true);
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 65_536)
    throw new InvalidArgumentError(`maxBins is ${maxBins}: pass an integer in 2..65536`);

  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  const baseScore = Math.fround(loss === 'logistic' ? Math.log(mean / (1 - mean)) : mean);
  const bins = binFeatures(X, n, f, maxBins);
  const margin = new Float64Array(n).fill(baseScore);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: RegressionTree[] = [];
  const lossHistory = new Float64Array(nEstimators);
  const growth = { maxDepth, minSamplesLeaf, minChildWeight, l2, learningRate };

  for (let t = 0; t < nEstimators; t++) {
    for (let i = 0; i < n; i++) {
      if (loss === 'logistic') {
        const p = sigmoid(margin[i]!);
        g[i] = p - y[i]!;
        h[i] = Math.max(p * (1 - p), 1e-16);
      } else {
        g[i] = margin[i]! - y[i]!;
        h[i] = 1;
      }
    }
    // the leaves' rows are the binned partition, which equals the x <= threshold routing
    trees.push(
      growTree(bins, g, h, growth, (rows, v) => {
        for (const r of rows) margin[r]! += v;
      }),
    );
    lossHistory[t] = meanLoss(loss, margin, y, n);
  }

  const predictMargin = (Xb: ArrayLike<number>, at: number): number => {
    let m = baseScore;
    for (const tree of trees) m += treeValue(tree, Xb, at);
    return m;
  };
  const predictAt = (Xb: ArrayLike<number>, at: number): number =>
    loss === 'logistic' ? sigmoid(predictMargin(Xb, at)) : predictMargin(Xb, at);
  const checkRow = (r: ArrayLike<number>): void => {
    if (r.length !== f)
      throw new InvalidArgumentError(`row has ${r.length} values: pass exactly ${f} features`);
  };
  return {
    loss,
    features: f,
    baseScore,
    trees,
    lossHistory,
    predictMargin: (r) => (checkRow(r), predictMargin(r, 0)),
    predict: (r) => (checkRow(r), predictAt(r, 0)),
    predictBatch: (Xb, rows) => {
      if (!Number.isInteger(rows) || rows < 0 || Xb.length !== rows * f)
        throw new InvalidArgumentError(`X has ${Xb.length} values, not ${rows} rows × ${f} features`);
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) out[i] = predictAt(Xb, i * f);
      return out;
    },
  };
}

function meanLoss(
  loss: 'logistic' | 'squared',
  margin: Float64Array,
  y: ArrayLike<number>,
  n: number,
): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const m = margin[i]!;
    if (loss === 'squared') sum += (m - y[i]!) ** 2 / 2;
    else sum += (m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m))) - y[i]! * m;
  }
  return sum / n;
}
