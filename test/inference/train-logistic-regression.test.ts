import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceErrorCodes } from '../../src/inference/index.js';
import { rocAuc, trainLogisticRegression } from '../../src/train.js';
import { syntheticSet } from './synthetic.js';

const close = (actual: number, expected: number, eps: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= eps, `${what} expected ${expected}, got ${actual}`);

describe('trainLogisticRegression', () => {
  it('recovers the closed-form log-odds of a single binary feature', () => {
    // x=0: 3 positives of 10 -> bias = log(3/7); x=1: 8 of 10 -> bias + w = log(4)
    const X = new Float32Array(20);
    const y = new Uint8Array(20);
    for (let i = 0; i < 10; i++) {
      X[10 + i] = 1;
      y[i] = i < 3 ? 1 : 0;
      y[10 + i] = i < 8 ? 1 : 0;
    }
    for (const standardize of [true, false]) {
      const fit = trainLogisticRegression(X, y, 1, { l2: 0, standardize });
      assert.ok(fit.converged, `converged (standardize=${standardize})`);
      close(fit.bias, Math.log(3 / 7), 1e-7, 'bias');
      close(fit.weights[0]!, Math.log(4) - Math.log(3 / 7), 1e-7, 'weight');
    }
  });

  it('converges in a few Newton steps on 15 varied-scale features and ranks held-out rows well', () => {
    const train = syntheticSet(20_000, 15, 1);
    const test = syntheticSet(10_000, 15, 2);
    const fit = trainLogisticRegression(train.X, train.y, 15);
    assert.ok(fit.converged);
    assert.ok(fit.iterations <= 15, `took ${fit.iterations} iterations`);
    const auc = rocAuc(fit.predictBatch(test.X, test.n), test.y);
    const best = rocAuc(test.logit, test.y);
    assert.ok(auc > 0.9, `held-out AUC ${auc}`);
    assert.ok(best - auc < 0.005, `held-out AUC ${auc} vs the true model's ${best}`);
  });

  it('satisfies the optimality condition for the bias (mean prediction = base rate)', () => {
    const { X, y, n } = syntheticSet(5_000, 15, 3);
    const p = trainLogisticRegression(X, y, 15).predictBatch(X, n);
    let sumP = 0;
    let sumY = 0;
    for (let i = 0; i < n; i++) {
      sumP += p[i]!;
      sumY += y[i]!;
    }
    close(sumP / n, sumY / n, 1e-7, 'mean prediction'); // |bias gradient| < tol = 1e-8
  });

  it('balances classes: mean prediction over positives plus over negatives is 1', () => {
    const { X, y, n } = syntheticSet(5_000, 15, 4);
    const p = trainLogisticRegression(X, y, 15, { classWeight: 'balanced' }).predictBatch(X, n);
    const sums = [0, 0];
    const counts = [0, 0];
    for (let i = 0; i < n; i++) {
      sums[y[i]!]! += p[i]!;
      counts[y[i]!]!++;
    }
    close(sums[1]! / counts[1]! + sums[0]! / counts[0]!, 1, 1e-7, 'balanced means');
  });

  it('gives a constant column zero weight and stays finite', () => {
    const { X, y } = syntheticSet(3_000, 15, 5);
    const fit = trainLogisticRegression(X, y, 15);
    assert.equal(fit.std[14], 1);
    close(fit.weights[14]!, 0, 1e-12, 'constant column weight');
    assert.ok([...fit.weights].every(Number.isFinite) && Number.isFinite(fit.bias));
  });

  it('reaches the same optimum with and without standardization (l2 = 0)', () => {
    const { X, y, n } = syntheticSet(4_000, 6, 6);
    const a = trainLogisticRegression(X, y, 6, { l2: 0 });
    // unstandardized, the constant last column duplicates the bias: only w0..w4 and predictions are identified
    const b = trainLogisticRegression(X, y, 6, { l2: 0, standardize: false, maxIter: 200 });
    assert.ok(a.converged && b.converged);
    for (let j = 0; j < 5; j++)
      close(b.weights[j]!, a.weights[j]!, 1e-6 * Math.max(1, Math.abs(a.weights[j]!)), `w${j}`);
    const pa = a.predictBatch(X, n);
    const pb = b.predictBatch(X, n);
    for (let i = 0; i < n; i++) close(pb[i]!, pa[i]!, 1e-7, `row ${i}`);
  });

  it('is deterministic and predict agrees with predictBatch', () => {
    const { X, y, n } = syntheticSet(2_000, 15, 7);
    const a = trainLogisticRegression(X, y, 15);
    const b = trainLogisticRegression(X, y, 15);
    assert.deepEqual([...a.weights], [...b.weights]);
    assert.equal(a.bias, b.bias);
    const batch = a.predictBatch(X, n);
    for (const i of [0, 1, 999, n - 1]) assert.equal(a.predict(X.subarray(i * 15, (i + 1) * 15)), batch[i]);
  });

  it('rejects malformed inputs with a message saying what to pass', () => {
    const code = InferenceErrorCodes.invalidArgument;
    const X = new Float32Array([0, 1, 2, 3]);
    assert.throws(() => trainLogisticRegression(X, [0, 1], 0), { code, message: /f is 0/ });
    assert.throws(() => trainLogisticRegression(X, [0, 1], 3), {
      code,
      message: /not a whole number of rows/,
    });
    assert.throws(() => trainLogisticRegression(X, [0, 1, 1], 2), {
      code,
      message: /3 labels but X has 2 rows/,
    });
    assert.throws(() => trainLogisticRegression(X, [0, 2], 2), { code, message: /y\[1\] is 2/ });
    assert.throws(() => trainLogisticRegression(X, [1, 1], 2), { code, message: /only label 1/ });
    assert.throws(() => trainLogisticRegression([0, NaN, 2, 3], [0, 1], 2), {
      code,
      message: /row 0, feature 1/,
    });
    assert.throws(() => trainLogisticRegression(X, [0, 1], 2, { l2: -1 }), { code, message: /l2 is -1/ });
    const fit = trainLogisticRegression(X, [0, 1], 2);
    assert.throws(() => fit.predict([1]), { code, message: /exactly 2 features/ });
    assert.throws(() => fit.predictBatch([1, 2, 3], 2), { code, message: /2 rows × 2 features/ });
  });
});
