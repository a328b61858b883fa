import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { MODEL_PATH, readModelInfo } from '../../src/apps/fraud/model-info.js';
import { featureRows, trainFraudModel } from '../../src/apps/fraud/train.js';
import { TransactionGenerator } from '../../src/apps/fraud/generator.js';
import { OnnxModel, float32Tensor } from '../../src/inference/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('fraud model training and export', () => {
  it('trains on generated history and exports an ONNX model that onnxruntime runs', async () => {
    const modelPath = join(tmp, 'm.onnx');
    const info = await trainFraudModel({
      days: 75,
      customers: 400,
      terminals: 800,
      modelPath,
      infoPath: join(tmp, 'm.json'),
    });
    assert.ok(info.validation.roc_auc > 0.8, `validation AUC ${info.validation.roc_auc}`);
    assert.ok(info.threshold > 0 && info.threshold < 1);
    const model = await OnnxModel.load(modelPath);
    assert.deepEqual(
      model.metadata.inputs.map((i) => [i.name, i.dims.at(-1)]),
      [['features', MODEL_WIDTH]],
    );
    await model.close();
  });

  it('the committed model scores the pipeline features as its description says', async () => {
    const info = readModelInfo();
    assert.equal(info.features.length, MODEL_WIDTH);
    const model = await OnnxModel.load(MODEL_PATH);
    const gen = new TransactionGenerator({ seed: 5, customers: 300, terminals: 600 });
    const txs = [];
    for (let d = 0; d < 45; d++) txs.push(...gen.nextDay());
    const { X, y } = await featureRows(txs);
    const n = y.length;
    const out = await model.run({ features: float32Tensor(Float32Array.from(X), [n, MODEL_WIDTH]) });
    const scores = out.score!.data as Float32Array;
    assert.equal(scores.length, n);
    // Scenario-1 frauds (amount > 220) must score above the alert threshold.
    for (let i = 0; i < n; i++)
      if (X[i * MODEL_WIDTH]! > 250)
        assert.ok(scores[i]! >= info.threshold, `tx ${i} amount ${X[i * MODEL_WIDTH]} scored ${scores[i]}`);
    await model.close();
  });
});
