import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchedModel,
  float32Tensor,
  type DynamicBatcherOptions,
  type Model,
  type ModelMetadata,
  type Tensor,
} from '../../src/inference/index.js';
import { VirtualTime } from './virtual-time.js';

/**
 * A simulated model server: one call at a time (later calls queue behind it), each taking
 * (A + B·rows) ms times a jitter of ±20 %, and 1 call in 100 another 5 ms (a GC pause, a
 * noisy neighbour), so bigger batches serve more rows per second but each takes longer.
 */
class SimModel implements Model {
  readonly metadata: ModelMetadata = {
    name: 'sim',
    version: '1',
    inputs: [{ name: 'x', type: 'float32', dims: ['N', 1] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['N', 1] }],
  };
  #freeAt = 0;
  #seed = 12_345;

  run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const n = inputs.x!.dims[0]!;
    const now = performance.now();
    const jitter = 0.8 + 0.4 * this.#random() + (this.#random() < 0.01 ? 5 / (A_MS + B_MS * n) : 0);
    this.#freeAt = Math.max(now, this.#freeAt) + (A_MS + B_MS * n) * jitter;
    const out = { y: float32Tensor(inputs.x!.data as Float32Array, [n, 1]) };
    return new Promise((resolve) => setTimeout(() => resolve(out), this.#freeAt - now));
  }

  async close(): Promise<void> {}

  #random(): number {
    this.#seed = (this.#seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return this.#seed / 2 ** 31;
  }
}

const A_MS = 1;
const B_MS = 0.02; // 1 row: ~1k rows/s; 64 rows: 28k; 1024 rows: 48k
const TARGET_MS = 25;

interface Phase {
  rps: number;
  seconds: number;
  /** Requests sent at once when the phase starts. */
  burst?: number;
}

/**
 * Open loop over the phases on simulated time; per phase, the p99 latency of the requests sent
 * in its last second, and the rows/s completed of those.
 */
async function drive(model: Model, phases: Phase[]): Promise<{ p99: number; rate: number }[]> {
  const vt = new VirtualTime();
  vt.install();
  try {
    const results: { p99: number; rate: number }[] = [];
    for (const phase of phases) {
      const lat: number[] = [];
      const t0 = vt.now;
      const end = t0 + phase.seconds * 1000;
      const measureFrom = end - 1000;
      const send = (): void => {
        const t = vt.now;
        void model.run({ x: float32Tensor([1], [1, 1]) }).then(() => {
          if (t >= measureFrom) lat.push(vt.now - t);
        });
      };
      for (let i = 0; i < (phase.burst ?? 0); i++) send();
      const gap = 1000 / phase.rps;
      const arrive = (k: number): void => {
        send();
        if (t0 + (k + 1) * gap < end) vt.at(t0 + (k + 1) * gap, () => arrive(k + 1));
      };
      vt.at(t0, () => arrive(0));
      await vt.runUntil(end);
      // what was sent in the measured second has this long to finish, else it counts as lost
      await vt.runUntil(end + 10 * TARGET_MS);
      lat.sort((x, y) => x - y);
      const sentMeasured = phase.rps;
      results.push({
        p99: lat.length < sentMeasured * 0.99 ? Infinity : lat[Math.ceil(lat.length * 0.99) - 1]!,
        rate: lat.length,
      });
    }
    return results;
  } finally {
    vt.uninstall();
  }
}

const BASE: DynamicBatcherOptions = { maxBatchSize: 2048, maxInFlightBatches: 4 };

describe('batching that holds a latency target (simulated model, latency = a + b·batch)', () => {
  it('keeps p99 under the target as the load changes, at the throughput of the best static setting', async (t) => {
    const phases: Phase[] = [
      { rps: 500, seconds: 1.5 },
      // a burst larger than any batch the target allows: 2048 rows take 42 ms
      { rps: 15_000, seconds: 3, burst: 3000 },
      // near saturation: 35k rows/s needs batches of ~100 rows or more
      { rps: 35_000, seconds: 3 },
      { rps: 500, seconds: 1.5 },
    ];
    const model = new SimModel();
    const adaptive = batchedModel(model, { ...BASE, batching: { targetP99Ms: TARGET_MS } });
    const got = await drive(adaptive, phases);
    const s = adaptive.stats().adaptive!;
    await adaptive.close();
    for (const [i, r] of got.entries())
      assert.ok(r.p99 <= TARGET_MS, `phase ${i}: p99 ${r.p99.toFixed(1)} ms over the ${TARGET_MS} ms target`);
    assert.ok(
      s.batchLimit < 2048 * 0.7,
      `the burst's batches were too slow, so the limit shrank: ${s.batchLimit}`,
    );
    assert.ok(s.adjustments >= 1);

    // static settings at the highest load, the best that meets the target
    let bestStatic = 0;
    const statics: string[] = [];
    for (const o of [
      { maxBatchSize: 256, maxQueueDelayMicros: 0 },
      { maxBatchSize: 256, maxQueueDelayMicros: 2000 },
      { maxBatchSize: 1024, maxQueueDelayMicros: 4000 },
      { maxBatchSize: 2048, maxQueueDelayMicros: 0 },
    ]) {
      const b = batchedModel(new SimModel(), { ...BASE, ...o });
      const [r] = await drive(b, [phases[2]!]);
      await b.close();
      statics.push(`${o.maxBatchSize}/${o.maxQueueDelayMicros}µs: p99 ${r!.p99.toFixed(1)} ms, ${r!.rate}/s`);
      if (r!.p99 <= TARGET_MS) bestStatic = Math.max(bestStatic, r!.rate);
    }
    t.diagnostic(
      `adaptive per phase: ${JSON.stringify(got)}; final ${JSON.stringify(s)}; static at 35k/s: ${statics.join('; ')}`,
    );
    assert.ok(bestStatic > 0, `some static setting meets the target: ${statics.join('; ')}`);
    assert.ok(
      got[2]!.rate >= 0.95 * bestStatic,
      `adaptive ${got[2]!.rate} rows/s against the best static ${bestStatic}`,
    );
  });

  it('leaves the delay at zero on a model that idles at low load (a delay would only add latency)', async () => {
    const adaptive = batchedModel(new SimModel(), {
      ...BASE,
      maxQueueDelayMicros: 10_000,
      batching: { targetP99Ms: TARGET_MS },
    });
    const [r] = await drive(adaptive, [{ rps: 400, seconds: 1.5 }]);
    const s = adaptive.stats().adaptive!;
    await adaptive.close();
    assert.equal(s.delayMicros, 0);
    assert.ok(r!.p99 <= TARGET_MS, `p99 ${r!.p99} ms`);
  });

  it('rejects a bad target at construction, naming the option', () => {
    assert.throws(
      () => batchedModel(new SimModel(), { maxBatchSize: 8, batching: { targetP99Ms: -1 } }),
      /batching\.targetP99Ms is -1/,
    );
  });
});
