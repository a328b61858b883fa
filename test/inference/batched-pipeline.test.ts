import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchedModel,
  OnnxModel,
  ROW_ERRORS,
  type ModelRunOptions,
  type Tensor,
} from '../../src/inference/index.js';
import { exportLogisticRegression, trainLogisticRegression } from '../../src/train.js';
import { collect, fromArray, pipeline } from '../../src/stream/index.js';
import { syntheticSet } from './synthetic.js';

const F = 15;

describe('a batched model in a pipeline', () => {
  it("keeps the pipeline's one-call-per-batch path: batches larger than maxBatchSize pass whole", async () => {
    const train = syntheticSet(5_000, F, 51);
    const fit = trainLogisticRegression(train.X, train.y, F);
    const model = await OnnxModel.load(exportLogisticRegression(fit.standardized));
    const scorer = batchedModel(model, { maxBatchSize: 64, maxQueueDelayMicros: 200 });
    const test = syntheticSet(1_000, F, 52);
    const rows = Array.from({ length: test.n }, (_, i) => ({ i, x: test.X.subarray(i * F, i * F + F) }));
    const out = collect<{ i: number; score: number }>();
    const summary = await pipeline('batched')
      .from(fromArray(rows))
      .infer(scorer, { width: F, input: (r) => r.x, output: (r, row) => ({ i: r.i, score: row[0]! }) })
      .to(out)
      .run({ batchSize: 250 }).done;
    assert.equal(summary.counters.deadLetters, 0);
    const expected = fit.predictBatch(test.X, test.n);
    assert.deepEqual(
      out.values.map((v) => v.i),
      rows.map((r) => r.i),
    );
    for (const v of out.values) assert.ok(Math.abs(v.score - expected[v.i]!) < 1e-5);
    const s = scorer.stats();
    assert.equal(s.batches, 4, 'four pipeline batches of 250 rows, each its own model call');
    assert.equal(s.maxBatchRows, 250);
    await scorer.close();
  });

  it('merges the small batches of several pipelines sharing one model into fewer calls', async () => {
    const train = syntheticSet(5_000, F, 53);
    const fit = trainLogisticRegression(train.X, train.y, F);
    const model = await OnnxModel.load(exportLogisticRegression(fit.standardized));
    const scorer = batchedModel(model, { maxBatchSize: 256, maxQueueDelayMicros: 2_000 });
    const test = syntheticSet(400, F, 54);
    const expected = fit.predictBatch(test.X, test.n);
    const runs = Array.from({ length: 4 }, (_, p) => {
      const rows = Array.from({ length: 100 }, (_, k) => p * 100 + k);
      const out = collect<{ i: number; score: number }>();
      const done = pipeline(`p${p}`)
        .from(fromArray(rows))
        .infer(scorer, {
          width: F,
          input: (i) => test.X.subarray(i * F, i * F + F),
          output: (i, row) => ({ i, score: row[0]! }),
        })
        .to(out)
        .run({ batchSize: 4 }).done;
      return done.then(() => out.values);
    });
    const results = (await Promise.all(runs)).flat();
    assert.equal(results.length, 400);
    for (const v of results) assert.ok(Math.abs(v.score - expected[v.i]!) < 1e-5);
    const s = scorer.stats();
    assert.ok(s.meanBatchRows > 4, `mean batch ${s.meanBatchRows} rows from 4-row pipeline batches`);
    await scorer.close();
  });

  it('names the outputs it reads, so a batcher hands each record only those', async () => {
    const train = syntheticSet(1_000, F, 55);
    const fit = trainLogisticRegression(train.X, train.y, F);
    const model = await OnnxModel.load(exportLogisticRegression(fit.standardized));
    const seen: (readonly string[] | undefined)[] = [];
    const spy = {
      metadata: model.metadata,
      run: (inputs: Record<string, Tensor>, options?: ModelRunOptions) => {
        seen.push(options?.outputs);
        return model.run(inputs);
      },
      close: () => model.close(),
    };
    const out = collect<number>();
    await pipeline('named')
      .from(fromArray([0, 1, 2]))
      .infer(spy, {
        width: F,
        input: (i) => train.X.subarray(i * F, i * F + F),
        output: (_i, row) => row[0]!,
      })
      .to(out)
      .run({ batchSize: 3 }).done;
    assert.equal(out.values.length, 3);
    const outputName = model.metadata.outputs[0]!.name;
    assert.deepEqual(seen, [[outputName, ROW_ERRORS]]);
    await model.close();
  });
});
