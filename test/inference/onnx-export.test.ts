import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { float32Tensor, InferenceErrorCodes, OnnxModel } from '../../src/inference/index.js';
import {
  buildModel,
  ElemType,
  exportLogisticRegression,
  node,
  tensorValueInfo,
  trainLogisticRegression,
} from '../../src/train.js';
import { syntheticSet } from './synthetic.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

async function scores(bytes: Uint8Array, rows: number[][]): Promise<Float32Array> {
  const model = await OnnxModel.load(bytes);
  try {
    const out = await model.run({ features: float32Tensor(rows.flat(), [rows.length, rows[0]!.length]) });
    return out.score!.data as Float32Array;
  } finally {
    await model.close();
  }
}

describe('exportLogisticRegression', () => {
  it('writes an IR 8 model with opsets ai.onnx 17 and ai.onnx.ml 3, produced by sluice', () => {
    const m = onnxProto.onnx.ModelProto.decode(exportLogisticRegression({ weights: [1, 2], bias: 0 }));
    assert.equal(Number(m.irVersion), 8);
    assert.equal(m.producerName, 'sluice');
    assert.deepEqual(
      m.opsetImport.map((o) => [o.domain, Number(o.version)]),
      [
        ['', 17],
        ['ai.onnx.ml', 3],
      ],
    );
    assert.deepEqual(
      m.graph?.node?.map((n) => n.opType),
      ['MatMul', 'Add', 'Sigmoid'],
    );
  });

  it('computes sigmoid(b + w·x) on raw features', async () => {
    const rows = [
      [1, 2, 3],
      [-1, 0.5, 0],
      [0, 0, 0],
    ];
    const got = await scores(exportLogisticRegression({ weights: [0.5, -1, 0.25], bias: 0.1 }), rows);
    rows.forEach((r, i) =>
      assert.ok(Math.abs(got[i]! - sigmoid(0.1 + 0.5 * r[0]! - r[1]! + 0.25 * r[2]!)) < 1e-6),
    );
  });

  it("applies mean/std: the same function as w' = w/std, b' = b − Σ w·mean/std (std 0 read as 1)", async () => {
    const w = [2, -1, 3];
    const mean = [10, -4, 1];
    const std = [5, 0.5, 0];
    const rows = [
      [12, -4.5, 7],
      [8, -3, 1],
      [10, -4, 1],
    ];
    const got = await scores(exportLogisticRegression({ weights: w, bias: -0.3, mean, std }), rows);
    const wf = w.map((v, j) => v / (std[j] || 1));
    const bf = -0.3 - wf.reduce((s, v, j) => s + v * mean[j]!, 0);
    rows.forEach((r, i) => {
      const expected = sigmoid(bf + r.reduce((s, x, j) => s + wf[j]! * x, 0));
      assert.ok(Math.abs(got[i]! - expected) < 1e-6, `row ${i}: ${got[i]} vs ${expected}`);
    });
  });

  it('keeps the folded and the centered export of one fit equal to predictBatch', async () => {
    const train = syntheticSet(10_000, 15, 31);
    const test = syntheticSet(2_000, 15, 32);
    const fit = trainLogisticRegression(train.X, train.y, 15);
    const expected = fit.predictBatch(test.X, test.n);
    const rows = Array.from({ length: test.n }, (_, i) => [...test.X.subarray(i * 15, (i + 1) * 15)]);
    const worst = (got: Float32Array): number =>
      got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0);
    assert.ok(worst(await scores(exportLogisticRegression(fit.standardized), rows)) < 1e-5);
    // fully folded weights on features of magnitude ~100 lose a few float32 digits, hence the looser bound
    const foldedMean = exportLogisticRegression({ ...fit.standardized, foldMean: true });
    const ops = onnxProto.onnx.ModelProto.decode(foldedMean).graph?.node?.map((n) => n.opType);
    assert.deepEqual(ops, ['MatMul', 'Add', 'Sigmoid']);
    assert.ok(worst(await scores(foldedMean, rows)) < 1e-4);
    assert.ok(
      worst(await scores(exportLogisticRegression({ weights: fit.weights, bias: fit.bias }), rows)) < 1e-4,
    );
  });

  it('rejects a fit passed whole, mismatched lengths and non-finite values', () => {
    const code = InferenceErrorCodes.invalidArgument;
    const fit = trainLogisticRegression([0, 1, 2, 3], [0, 1], 2);
    assert.throws(() => exportLogisticRegression(fit), { code, message: /pass fit\.standardized/ });
    assert.throws(() => exportLogisticRegression({ weights: [], bias: 0 }), {
      code,
      message: /weights is empty/,
    });
    assert.throws(() => exportLogisticRegression({ weights: [1, 2], bias: 0, std: [1] }), {
      code,
      message: /std has 1 values but weights has 2/,
    });
    assert.throws(() => exportLogisticRegression({ weights: [1, NaN], bias: 0 }), {
      code,
      message: /weights\[1\] is NaN/,
    });
    assert.throws(
      () => exportLogisticRegression({ weights: [1], bias: 0, inputName: 'x', outputName: 'x' }),
      { code },
    );
  });
});

describe('graph-builder models through OnnxModel', () => {
  it('checks that inputs sharing the symbolic dim N agree on it', async () => {
    const bytes = buildModel({
      name: 'add',
      inputs: [
        tensorValueInfo('a', ElemType.float, ['N', 2]),
        tensorValueInfo('b', ElemType.float, ['N', 2]),
      ],
      outputs: [tensorValueInfo('sum', ElemType.float, ['N', 2])],
      nodes: [node('Add', ['a', 'b'], ['sum'])],
    });
    const model = await OnnxModel.load(bytes);
    const out = await model.run({ a: float32Tensor([1, 2], [1, 2]), b: float32Tensor([3, 4], [1, 2]) });
    assert.deepEqual([...(out.sum!.data as Float32Array)], [4, 6]);
    await assert.rejects(
      model.run({
        a: float32Tensor(new Float32Array(6), [3, 2]),
        b: float32Tensor(new Float32Array(8), [4, 2]),
      }),
      {
        code: InferenceErrorCodes.inputDims,
        message:
          'input "b" expects dims [N,2], got [4,2] (dim N is 3 in another input: all inputs must share it)',
      },
    );
    await model.close();
  });

  it('reports fixed dims a pipeline plan cannot guarantee', async () => {
    const bytes = buildModel({
      name: 'fixed',
      inputs: [tensorValueInfo('x', ElemType.float, [1, 3])],
      outputs: [tensorValueInfo('y', ElemType.float, [1, 3])],
      nodes: [node('Relu', ['x'], ['y'])],
    });
    const model = await OnnxModel.load(bytes);
    assert.deepEqual(model.metadata.inputs, [{ name: 'x', type: 'float32', dims: [1, 3] }]);
    model.checkInputs([{ name: 'x', dims: [1, 3] }]);
    assert.throws(() => model.checkInputs([{ name: 'x', dims: [-1, 3] }]), {
      code: InferenceErrorCodes.inputDims,
      message: /dim 0 varies in the pipeline but the model fixes it at 1/,
    });
    await model.close();
  });

  it('tells a scalar from an input with no declared shape (parsed from the model bytes)', async () => {
    const onnx = onnxProto.onnx;
    const noShape = onnx.ValueInfoProto.create({
      name: 'any',
      type: { tensorType: { elemType: ElemType.float } },
    });
    const bytes = buildModel({
      name: 'shapes',
      inputs: [noShape, tensorValueInfo('scale', ElemType.float, [])],
      outputs: [tensorValueInfo('out', ElemType.float, ['M'])],
      nodes: [node('Mul', ['any', 'scale'], ['out'])],
    });
    const model = await OnnxModel.load(bytes);
    assert.deepEqual(model.metadata.inputs, [
      { name: 'any', type: 'float32', dims: [], anyShape: true },
      { name: 'scale', type: 'float32', dims: [] },
    ]);
    const out = await model.run({ any: float32Tensor([1, 2, 3], [3]), scale: float32Tensor([2], []) });
    assert.deepEqual([...(out.out!.data as Float32Array)], [2, 4, 6]);
    await assert.rejects(model.run({ any: float32Tensor([1], [1]), scale: float32Tensor([2], [1]) }), {
      code: InferenceErrorCodes.inputDims,
      message: 'input "scale" expects dims [], got [1]',
    });
    await model.close();
  });

  it('refuses a model with an unsupported input type, saying what to change', async () => {
    const bytes = buildModel({
      name: 'f16',
      inputs: [tensorValueInfo('x', onnxProto.onnx.TensorProto.DataType.FLOAT16, ['N'])],
      outputs: [tensorValueInfo('y', onnxProto.onnx.TensorProto.DataType.FLOAT16, ['N'])],
      nodes: [node('Identity', ['x'], ['y'])],
    });
    await assert.rejects(OnnxModel.load(bytes), {
      code: InferenceErrorCodes.unsupportedType,
      message:
        /input "x" has type float16; supported types are float32, int64, int32, float64, string, bool: add a Cast/,
    });
  });
});
