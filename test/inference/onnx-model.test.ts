import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { float32Tensor, InferenceErrorCodes, ModelInputError, OnnxModel } from '../../src/inference/index.js';
import {
  exportLogisticRegression,
  rocAuc,
  trainLogisticRegression,
  type LogisticRegressionFit,
} from '../../src/train.js';
import { syntheticSet } from './synthetic.js';

const F = 15;
const codes = InferenceErrorCodes;

describe('OnnxModel with an exported logistic regression', () => {
  let fit: LogisticRegressionFit;
  let model: OnnxModel;
  const test = syntheticSet(4_096, F, 22);

  before(async () => {
    const train = syntheticSet(20_000, F, 21);
    fit = trainLogisticRegression(train.X, train.y, F);
    model = await OnnxModel.load(exportLogisticRegression(fit.standardized), {
      name: 'fraud-lr',
      version: '3',
    });
  });
  after(() => model.close());

  it('reads names, types and dims from the session', () => {
    assert.deepEqual(model.metadata, {
      name: 'fraud-lr',
      version: '3',
      inputs: [{ name: 'features', type: 'float32', dims: ['N', F] }],
      outputs: [{ name: 'score', type: 'float32', dims: ['N', 1] }],
    });
  });

  it('scores a batch exactly as predictBatch does (to 1e-5)', async () => {
    const out = await model.run({ features: float32Tensor(test.X, [test.n, F]) });
    assert.deepEqual(out.score!.dims, [test.n, 1]);
    assert.equal(out.score!.type, 'float32');
    const expected = fit.predictBatch(test.X, test.n);
    const got = out.score!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < test.n; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  });

  it('reaches the expected AUC on held-out rows', async () => {
    const out = await model.run({ features: float32Tensor(test.X, [test.n, F]) });
    const auc = rocAuc(out.score!.data as Float32Array, test.y);
    const best = rocAuc(test.logit, test.y);
    assert.ok(auc > 0.92 && best - auc < 0.01, `AUC ${auc}, true model ${best}`);
  });

  it('runs batches of 1 and 0 rows', async () => {
    const one = await model.run({ features: float32Tensor(test.X.subarray(0, F), [1, F]) });
    assert.ok(Math.abs((one.score!.data as Float32Array)[0]! - fit.predict(test.X.subarray(0, F))) < 1e-5);
    const none = await model.run({ features: float32Tensor([], [0, F]) });
    assert.deepEqual(none.score!.dims, [0, 1]);
  });

  it('names the mismatch when dims, names or types are wrong', async () => {
    await assert.rejects(model.run({ features: float32Tensor(new Float32Array(4 * 14), [4, 14]) }), {
      name: 'ModelInputError',
      code: codes.inputDims,
      input: 'features',
      message: 'input "features" expects dims [N,15], got [4,14]',
    });
    await assert.rejects(model.run({ features: float32Tensor(new Float32Array(F), [F]) }), {
      code: codes.inputDims,
      message: /expects dims \[N,15\], got \[15\]/,
    });
    await assert.rejects(model.run({ feature: float32Tensor(new Float32Array(F), [1, F]) }), {
      code: codes.inputMissing,
      message: /input "features" is missing: the model needs "features" float32\[N,15\], got "feature"/,
    });
    await assert.rejects(
      model.run({ features: float32Tensor(new Float32Array(F), [1, F]), extra: float32Tensor([1], [1]) }),
      { code: codes.inputUnknown, input: 'extra', message: /input "extra" is not an input of this model/ },
    );
    await assert.rejects(
      model.run({ features: { type: 'float64', data: new Float64Array(F), dims: [1, F] } }),
      {
        code: codes.inputType,
        message: 'input "features" expects type float32, got float64',
      },
    );
    await assert.rejects(
      model.run({ features: { type: 'float32', data: new Float32Array(F), dims: [2, F] } }),
      {
        code: codes.tensorSize,
        message: /input "features" has 15 elements but dims \[2,15\] need 30/,
      },
    );
  });

  it('checks a pipeline plan once at start', () => {
    model.checkInputs([{ name: 'features', dims: [-1, F] }]);
    model.checkInputs([{ name: 'features', dims: ['batch', F], type: 'float32' }]);
    model.checkInputs([{ name: 'features', dims: [64, F] }]);
    assert.throws(() => model.checkInputs([{ name: 'features', dims: [-1, 14] }]), {
      code: codes.inputDims,
      message: 'input "features" expects dims [N,15], the pipeline plans [?,14]',
    });
    assert.throws(() => model.checkInputs([]), {
      code: codes.inputMissing,
      message: /"features" is missing from the pipeline's plan/,
    });
    assert.throws(() => model.checkInputs([{ name: 'features', dims: [-1, F], type: 'int64' }]), {
      code: codes.inputType,
    });
    assert.throws(
      () =>
        model.checkInputs([
          { name: 'features', dims: [-1, F] },
          { name: 'ids', dims: [-1] },
        ]),
      (err: unknown) =>
        err instanceof ModelInputError && err.code === codes.inputUnknown && err.input === 'ids',
    );
  });
});

describe('OnnxModel loading and closing', () => {
  const bytes = exportLogisticRegression({
    weights: [0.5, -1, 2],
    bias: 0.25,
    inputName: 'x',
    outputName: 'p',
  });
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-onnx-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads from a file path, naming the model after the file', async () => {
    const path = join(dir, 'tiny-lr.onnx');
    await writeFile(path, bytes);
    const model = await OnnxModel.load(path, {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'basic',
      warmup: false,
    });
    assert.equal(model.metadata.name, 'tiny-lr');
    assert.equal(model.metadata.version, '1');
    const out = await model.run({ x: float32Tensor([1, 1, 1], [1, 3]) });
    assert.ok(Math.abs((out.p!.data as Float32Array)[0]! - 1 / (1 + Math.exp(-1.75))) < 1e-6);
    await model.close();
  });

  it('fails to load a missing file or invalid bytes with a load error', async () => {
    await assert.rejects(OnnxModel.load(join(dir, 'nope.onnx')), {
      code: codes.modelLoad,
      message: /nope\.onnx.*check the path/,
    });
    await assert.rejects(OnnxModel.load(new Uint8Array([1, 2, 3, 4])), {
      code: codes.modelLoad,
      message: /4 bytes/,
    });
  });

  it('rejects invalid options before loading', async () => {
    await assert.rejects(OnnxModel.load(bytes, { intraOpNumThreads: -1 }), {
      code: codes.invalidArgument,
      message: /intraOpNumThreads is -1/,
    });
    await assert.rejects(OnnxModel.load(bytes, { graphOptimizationLevel: 'max' as 'all' }), {
      code: codes.invalidArgument,
      message: /graphOptimizationLevel is "max": pass one of disabled, basic, extended, all/,
    });
  });

  it('finishes runs in flight on close, then refuses new ones; close twice is harmless', async () => {
    const model = await OnnxModel.load(bytes);
    const runs = [1, 2, 3].map((n) => model.run({ x: float32Tensor(new Float32Array(n * 3), [n, 3]) }));
    await model.close();
    const results = await Promise.all(runs);
    assert.deepEqual(
      results.map((r) => r.p!.dims),
      [
        [1, 1],
        [2, 1],
        [3, 1],
      ],
    );
    await assert.rejects(model.run({ x: float32Tensor([0, 0, 0], [1, 3]) }), {
      code: codes.modelClosed,
      message: /is closed/,
    });
    await model.close();
  });
});
