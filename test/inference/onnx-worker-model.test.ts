import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  float32Tensor,
  InferenceErrorCodes,
  ModelInputError,
  OnnxModel,
  OnnxWorkerModel,
  WorkerError,
} from '../../src/inference/index.js';
import { exportLogisticRegression, trainLogisticRegression } from '../../src/train.js';
import { kWorkerSlots } from '../../src/inference/runners/onnx-worker-model.js';
import { syntheticSet } from './synthetic.js';

const F = 15;

describe('OnnxWorkerModel (sessions in worker threads)', () => {
  let bytes: Uint8Array;
  let worker: OnnxWorkerModel;
  let inProcess: OnnxModel;
  before(async () => {
    const train = syntheticSet(5_000, F, 41);
    bytes = exportLogisticRegression(trainLogisticRegression(train.X, train.y, F).standardized);
    worker = await OnnxWorkerModel.load(bytes, { name: 'lr', workers: 2, intraOpNumThreads: 1 });
    inProcess = await OnnxModel.load(bytes, { name: 'lr', intraOpNumThreads: 1 });
  });
  after(async () => {
    await worker.close();
    await inProcess.close();
  });

  it('has the same metadata and gives bit-identical results to the in-process runner', async () => {
    assert.deepEqual(worker.metadata, inProcess.metadata);
    const test = syntheticSet(4_096, F, 42);
    const a = await worker.run({ features: float32Tensor(test.X.slice(), [test.n, F]) });
    const b = await inProcess.run({ features: float32Tensor(test.X, [test.n, F]) });
    assert.deepEqual(a.score!.dims, b.score!.dims);
    assert.deepEqual(Array.from(a.score!.data as Float32Array), Array.from(b.score!.data as Float32Array));
  });

  it('transfers input buffers (no copy) and answers concurrent calls', async () => {
    const test = syntheticSet(64, F, 43);
    const inputs = Array.from({ length: 8 }, () => float32Tensor(test.X.slice(), [test.n, F]));
    const outs = await Promise.all(inputs.map((features) => worker.run({ features })));
    assert.equal(inputs[0]!.data.length, 0, 'the caller buffer moved to the worker');
    for (const o of outs) assert.deepEqual(o.score!.data, outs[0]!.score!.data);
  });

  it('keeps the event loop free while a large batch computes', async () => {
    const n = 400_000;
    const X = new Float32Array(n * F).fill(0.5);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await worker.run({ features: float32Tensor(X, [n, F]) });
    const ms = performance.now() - t0;
    clearInterval(timer);
    assert.ok(ticks >= 1, `${ticks} timer ticks during a ${ms.toFixed(1)} ms run`);
  });

  it('rejects calls of a crashed worker with a retryable WorkerError and restarts it', async () => {
    const solo = await OnnxWorkerModel.load(bytes, { name: 'lr' });
    const n = 200_000;
    const pending = solo.run({ features: float32Tensor(new Float32Array(n * F), [n, F]) });
    await solo[kWorkerSlots][0]!.worker.terminate();
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof WorkerError && e.code === InferenceErrorCodes.worker && e.retryable,
    );
    const out = await solo.run({ features: float32Tensor(new Float32Array(F), [1, F]) });
    assert.equal(out.score!.data.length, 1, 'a new worker answers');
    await solo.close();
  });

  it('checks inputs on the calling thread and rebuilds errors from the worker with their codes', async () => {
    const x = float32Tensor(new Float32Array(14), [1, 14]);
    await assert.rejects(
      worker.run({ features: x }),
      (e: unknown) => e instanceof ModelInputError && e.code === InferenceErrorCodes.inputDims,
    );
    assert.equal(x.data.length, 14, 'a rejected call does not detach the caller buffer');
    await assert.rejects(OnnxWorkerModel.load(new Uint8Array([1, 2, 3])), /could not load the ONNX model/);
  });
});
