import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  float32Tensor,
  InferenceMetrics,
  InvalidArgumentError,
  MicrosHistogram,
  OnnxModel,
} from '../../src/inference/index.js';
import { exportLogisticRegression } from '../../src/train.js';

const bytes = exportLogisticRegression({ weights: [0.5, -1, 2], bias: 0.1 });

describe('OnnxModel session options and checks', () => {
  it('accepts execution mode, memory arena and a warm-up batch of N rows', async () => {
    const model = await OnnxModel.load(bytes, {
      executionMode: 'parallel',
      interOpNumThreads: 1,
      intraOpNumThreads: 1,
      enableCpuMemArena: false,
      graphOptimizationLevel: 'extended',
      warmup: 256,
    });
    const out = await model.run({ features: float32Tensor([0, 0, 0], [1, 3]) });
    assert.ok(Math.abs((out.score!.data as Float32Array)[0]! - 1 / (1 + Math.exp(-0.1))) < 1e-6);
    await model.close();
  });

  it('rejects bad options before loading', async () => {
    await assert.rejects(OnnxModel.load(bytes, { warmup: -1 }), /warmup is -1/);
    await assert.rejects(
      OnnxModel.load(bytes, { executionMode: 'sideways' as 'parallel' }),
      /executionMode is "sideways"/,
    );
  });

  it('checkOutputs names a missing output or a wrong type', async () => {
    const model = await OnnxModel.load(bytes);
    model.checkOutputs([{ name: 'score', type: 'float32' }]);
    assert.throws(() => model.checkOutputs([{ name: 'label' }]), /has no output "label": it gives "score"/);
    assert.throws(
      () => model.checkOutputs([{ name: 'score', type: 'int64' }]),
      (e: unknown) => e instanceof InvalidArgumentError && /is float32, not int64/.test(e.message),
    );
    await model.close();
  });
});

describe('MicrosHistogram and InferenceMetrics', () => {
  it('reports exact percentiles below 1 ms and within 1.6 % above', () => {
    const h = new MicrosHistogram();
    for (let us = 1; us <= 100; us++) h.record(us / 1000);
    assert.deepEqual(h.summary(), { count: 100, p50: 50, p99: 99, max: 100 });
    h.reset();
    h.record(12.345); // 12 345 µs
    const p = h.percentile(50);
    assert.ok(p >= 12_345 && p <= 12_345 * 1.016, `${p}`);
    h.record(-1);
    assert.equal(h.percentile(0), 0);
  });

  it('collects registered stats and flattens them to numbers', () => {
    const metrics = new InferenceMetrics();
    metrics.register('resilience.kserve', {
      stats: () => ({ circuit: 'half-open', retries: 3, name: 'kserve' }),
    });
    metrics.register('batcher.fraud', { stats: () => ({ closedBy: { size: 2, delay: 1 } }) });
    assert.deepEqual(metrics.flat(), {
      'resilience.kserve.circuit': 2,
      'resilience.kserve.retries': 3,
      'batcher.fraud.closedBy.size': 2,
      'batcher.fraud.closedBy.delay': 1,
    });
    metrics.unregister('batcher.fraud');
    assert.deepEqual(Object.keys(metrics.snapshot()), ['resilience.kserve']);
  });
});
