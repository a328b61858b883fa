// Trainers written in TypeScript, exported to ONNX: ONNX Runtime must give the trainer's own
// predictions (within float32 tolerance) for logistic regression, MLP and gradient-boosted trees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { float32Tensor, OnnxModel, type Tensor } from '../../src/inference/index.js';
import {
  exportLogisticRegression,
  exportMlp,
  exportTreeEnsembleClassifier,
  exportTreeEnsembleRegressor,
  rocAuc,
  trainGradientBoostedTrees,
  trainLogisticRegression,
  trainMlp,
} from '../../src/train.js';
import { syntheticSet } from './synthetic.js';

const F = 15;
const train = syntheticSet(6_000, F, 61);
const test = syntheticSet(2_000, F, 62);

async function runOnnx(bytes: Uint8Array, X: Float32Array, n: number): Promise<Record<string, Tensor>> {
  const model = await OnnxModel.load(bytes);
  try {
    return await model.run({ features: float32Tensor(X, [n, F]) });
  } finally {
    await model.close();
  }
}

function worstDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst;
}

describe('train in TypeScript, run in ONNX Runtime', () => {
  it('logistic regression: ONNX scores equal predictBatch', async () => {
    const fit = trainLogisticRegression(train.X, train.y, F);
    const out = await runOnnx(exportLogisticRegression(fit.standardized), test.X, test.n);
    const d = worstDiff(out.score!.data as Float32Array, fit.predictBatch(test.X, test.n));
    assert.ok(d < 1e-5, `largest difference ${d}`);
  });

  it('MLP (one ReLU layer, Adam): deterministic, learns, and ONNX equals predictBatch', async () => {
    const opts = { hidden: 12, epochs: 8, seed: 5 };
    const fit = trainMlp(train.X, train.y, F, opts);
    const again = trainMlp(train.X, train.y, F, opts);
    assert.deepEqual(Array.from(fit.W1), Array.from(again.W1), 'same seed, same weights');
    const want = fit.predictBatch(test.X, test.n);
    const auc = rocAuc(want, test.y);
    assert.ok(auc > 0.9, `AUC ${auc}`);
    const out = await runOnnx(exportMlp(fit), test.X, test.n);
    assert.deepEqual(out.score!.dims, [test.n, 1]);
    const d = worstDiff(out.score!.data as Float32Array, want);
    assert.ok(d < 2e-5, `largest difference ${d}`);
  });

  it('MLP with SGD + momentum trains too', () => {
    const fit = trainMlp(train.X, train.y, F, { hidden: 8, epochs: 5, optimizer: 'sgd', learningRate: 0.05 });
    assert.ok(rocAuc(fit.predictBatch(test.X, test.n), test.y) > 0.88);
  });

  it('gradient-boosted trees: TreeEnsembleClassifier (ai.onnx.ml 3) equals predictBatch', async () => {
    const fit = trainGradientBoostedTrees(train.X, train.y, F, { nEstimators: 60, maxDepth: 3, maxBins: 32 });
    assert.ok(fit.lossHistory[59]! < fit.lossHistory[0]!, 'loss falls as trees are added');
    const want = fit.predictBatch(test.X, test.n);
    assert.ok(rocAuc(want, test.y) > 0.88, `AUC ${rocAuc(want, test.y)}`);
    const bytes = exportTreeEnsembleClassifier(fit);
    const m = onnxProto.onnx.ModelProto.decode(bytes);
    assert.deepEqual(
      m.graph?.node?.map((nd) => `${nd.domain}:${nd.opType}`),
      ['ai.onnx.ml:TreeEnsembleClassifier', ':MatMul'],
    );
    const out = await runOnnx(bytes, test.X, test.n);
    const d = worstDiff(out.score!.data as Float32Array, want);
    assert.ok(d < 1e-5, `largest difference ${d}`);
    const labels = out.label!.data as BigInt64Array;
    for (let i = 0; i < test.n; i++) assert.equal(labels[i], want[i]! > 0.5 ? 1n : 0n);
    const probs = out.probabilities!.data as Float32Array;
    assert.ok(Math.abs(probs[0]! + probs[1]! - 1) < 1e-6);
  });

  it('gradient-boosted trees: TreeEnsembleRegressor gives the margin, and with a Sigmoid the probability', async () => {
    const fit = trainGradientBoostedTrees(train.X, train.y, F, { nEstimators: 30, maxDepth: 4 });
    const margins = Float64Array.from({ length: test.n }, (_, i) =>
      fit.predictMargin(test.X.subarray(i * F, i * F + F)),
    );
    const raw = await runOnnx(exportTreeEnsembleRegressor(fit), test.X, test.n);
    assert.ok(worstDiff(raw.margin!.data as Float32Array, margins) < 1e-5);
    const prob = await runOnnx(exportTreeEnsembleRegressor(fit, { sigmoid: true }), test.X, test.n);
    assert.ok(worstDiff(prob.score!.data as Float32Array, fit.predictBatch(test.X, test.n)) < 1e-5);
  });

  it('regression trees (squared loss) with missing values route NaN right, in training and in ONNX', async () => {
    const X = Float32Array.from(test.X);
    const target = new Float64Array(test.n);
    for (let i = 0; i < test.n; i++) {
      target[i] = 2 * X[i * F]! - X[i * F + 3]! / 10;
      if (i % 7 === 0) X[i * F] = Number.NaN;
    }
    const fit = trainGradientBoostedTrees(X, target, F, { loss: 'squared', nEstimators: 40, maxDepth: 3 });
    assert.ok(fit.lossHistory[39]! < fit.lossHistory[0]! / 4);
    const out = await runOnnx(exportTreeEnsembleRegressor(fit), X, test.n);
    const d = worstDiff(out.margin!.data as Float32Array, fit.predictBatch(X, test.n));
    assert.ok(d < 1e-4, `largest difference ${d}`);
  });
});
