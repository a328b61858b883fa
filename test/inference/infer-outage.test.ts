// The infer stage's outage policy (`onUnavailable`) and its split of "the model is down" from
// "this record is bad", on an in-memory model that fails on command with the inference layer's
// own errors. The remote end to end case (KServe down for 10 s) is test/reliability/model-outage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { action, pipeline, withResilience, type Model } from '../../src/index.js';
import { ActionLedger } from '../../src/actions/index.js';
import {
  CircuitOpenError,
  InferenceTimeoutError,
  ModelInputError,
  ModelOverloadedError,
  ProtocolError,
  RemoteModelError,
  type ModelRunOptions,
  type Tensor,
} from '../../src/inference/index.js';
import { MemoryCheckpointStore, collect, fromArray } from '../../src/testing.js';
import { isModelUnavailable } from '../../src/stream/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-infer-outage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * score = x + 1000, one feature per row. While `down` is set every call fails with it; a row
 * below 0 makes the call fail with HTTP 400 (a bad record); `malformed` answers one value short.
 */
class ScriptedModel implements Model {
  readonly metadata = {
    name: 'scripted',
    version: '1',
    inputs: [{ name: 'x', type: 'float32' as const, dims: ['N', 1] }],
    outputs: [{ name: 'score', type: 'float32' as const, dims: ['N', 1] }],
  };
  down: (() => Error) | undefined;
  malformed = false;
  calls = 0;
  failedCalls = 0;
  rows: number[] = [];
  options: (ModelRunOptions | undefined)[] = [];

  async run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>> {
    this.calls++;
    this.options.push(options);
    const x = inputs.x!.data as Float32Array;
    if (this.down) {
      this.failedCalls++;
      throw this.down();
    }
    if (x.some((v) => v < 0)) throw new RemoteModelError('HTTP 400: input "x" must be >= 0', 400);
    this.rows.push(x.length);
    const out = new Float32Array(this.malformed ? x.length - 1 : x.length).map((_, i) => x[i]! + 1000);
    return { score: { type: 'float32', data: out, dims: [out.length, 1] } };
  }

  async close(): Promise<void> {}
}

const score = {
  width: 1,
  input: (i: number) => [i],
  output: (_i: number, row: Float32Array | Float64Array) => row[0]!,
};
const fastWait = { initialDelayMs: 5, maxDelayMs: 20 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('infer: outage policy', () => {
  it('tells an unavailable model (refused, reset, timeout, 5xx, 429, open breaker) from a bad record (4xx, input errors, malformed answers)', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    for (const e of [
      new RemoteModelError('connection refused', 0, { cause: refused }),
      new RemoteModelError('HTTP 500', 500),
      new RemoteModelError('HTTP 502', 502),
      new RemoteModelError('HTTP 408', 408),
      new ModelOverloadedError('HTTP 429', 429, 1000),
      new ModelOverloadedError('HTTP 503', 503),
      new InferenceTimeoutError('no answer in 50 ms', 50),
      new CircuitOpenError('open'),
      refused,
    ])
      assert.equal(isModelUnavailable(e), true, e.message);
    for (const e of [
      new RemoteModelError('HTTP 400', 400),
      new RemoteModelError('HTTP 404', 404),
      new RemoteModelError('HTTP 501', 501),
      new ModelInputError('SLUICE_INFERENCE_INPUT_TYPE', 'text', 'input "text" expects type string'),
      new ProtocolError('response has no "outputs"', { cause: new RemoteModelError('HTTP 500', 500) }),
      new Error('model bug'),
    ])
      assert.equal(isModelUnavailable(e), false, e.message);
  });

  it("'wait' (the default) holds the batch while the model is down and scores it once it is back: no dead letters", async () => {
    const model = new ScriptedModel();
    model.down = () => new RemoteModelError('HTTP 500: internal error', 500);
    const out = collect<number>();
    const run = pipeline('wait')
      .from(fromArray(Array.from({ length: 100 }, (_, i) => i)))
      .infer(model, { ...score, waitBackoff: fastWait })
      .to(out)
      .run({ batchSize: 10, queueCapacity: 1 });
    await sleep(150);
    assert.ok(model.failedCalls >= 3, `it kept trying (${model.failedCalls} calls)`);
    assert.equal(out.values.length, 0, 'nothing passed the stage while the model was down');
    assert.equal(run.metrics.waiting.get('infer'), 10, 'the held records show in the metrics');
    model.down = undefined;
    const s = await run.done;
    assert.equal(s.counters.deadLetters, 0);
    assert.deepEqual(
      out.values,
      Array.from({ length: 100 }, (_, i) => i + 1000),
    );
    assert.equal(run.metrics.waiting.get('infer'), 0);
  });

  it("'deadLetter' sends the batches of an outage to the dead letters with the reason, as before", async () => {
    const model = new ScriptedModel();
    model.down = () => new ModelOverloadedError('HTTP 429: too many requests', 429);
    const run = pipeline('dl')
      .from(fromArray(Array.from({ length: 30 }, (_, i) => i)))
      .infer(model, { ...score, onUnavailable: 'deadLetter' })
      .to(collect())
      .run({ batchSize: 10 });
    const s = await run.done;
    assert.equal(s.counters.deadLetters, 30);
    assert.equal(model.calls, 3, 'one call per batch, no waiting');
    assert.match(run.deadLetters!.items[0]!.reason, /inference failed: HTTP 429/);
  });

  it("'fallback' lets the resilience fallback answer an outage; under 'wait' the same model waits instead", async () => {
    for (const policy of ['fallback', 'wait'] as const) {
      const model = new ScriptedModel();
      model.down = () => new RemoteModelError('connection refused', 0);
      const resilient = withResilience(model, { fallback: { value: -1 } });
      const out = collect<number>();
      const run = pipeline(`fb-${policy}`)
        .from(fromArray(Array.from({ length: 20 }, (_, i) => i)))
        .infer(resilient, { ...score, onUnavailable: policy, waitBackoff: fastWait })
        .to(out)
        .run({ batchSize: 10 });
      await sleep(60);
      model.down = undefined;
      const s = await run.done;
      assert.equal(s.counters.deadLetters, 0, policy);
      if (policy === 'fallback') assert.deepEqual(out.values, new Array(20).fill(-1));
      else
        assert.deepEqual(
          out.values,
          Array.from({ length: 20 }, (_, i) => i + 1000),
        );
      assert.equal(resilient.stats().fallbacks, policy === 'fallback' ? 2 : 0, policy);
    }
  });

  it('waits through an open circuit breaker and reports its state to the metrics', async () => {
    const model = new ScriptedModel();
    model.down = () => new RemoteModelError('HTTP 503 upstream', 502);
    const resilient = withResilience(model, {
      name: 'scripted-remote',
      breaker: { kind: 'consecutive', failures: 2, halfOpenAfterMs: 40 },
    });
    const out = collect<number>();
    const run = pipeline('breaker')
      .from(fromArray(Array.from({ length: 20 }, (_, i) => i)))
      .infer(resilient, { ...score, waitBackoff: fastWait })
      .to(out)
      .run({ batchSize: 10 });
    await sleep(100);
    assert.notEqual(run.metrics.breakers.get('scripted-remote'), 'closed');
    assert.ok(resilient.stats().breakerRejections > 0, 'calls were refused by the open breaker');
    model.down = undefined;
    const s = await run.done;
    assert.equal(s.counters.deadLetters, 0);
    assert.equal(out.values.length, 20);
    assert.equal(run.metrics.breakers.get('scripted-remote'), 'closed');
  });

  it('a 4xx for one record dead-letters that record only (the batch is split to find it), under every policy', async () => {
    for (const policy of ['wait', 'deadLetter', 'fallback'] as const) {
      const model = new ScriptedModel();
      const values = Array.from({ length: 16 }, (_, i) => (i === 5 ? -5 : i));
      const out = collect<number>();
      const run = pipeline(`bad-${policy}`)
        .from(fromArray(values))
        .infer(model, { ...score, onUnavailable: policy })
        .to(out)
        .run({ batchSize: 16 });
      const s = await run.done;
      assert.equal(s.counters.deadLetters, 1, policy);
      const dl = run.deadLetters!.items[0]!;
      assert.equal(dl.original, -5);
      assert.match(dl.reason, /HTTP 400: input "x" must be >= 0/);
      assert.deepEqual(
        out.values,
        values.filter((v) => v >= 0).map((v) => v + 1000),
        policy,
      );
    }
  });

  it('a server that refuses every call (a wrong model name) costs at most 64 extra calls per batch, not one per record', async () => {
    const model = new ScriptedModel();
    model.down = () => new RemoteModelError('HTTP 404: unknown model "fraud-v9"', 404);
    const run = pipeline('refuse-all')
      .from(fromArray(Array.from({ length: 1024 }, (_, i) => i)))
      .infer(model, score)
      .to(collect())
      .run({ batchSize: 1024 });
    const s = await run.done;
    assert.equal(s.counters.deadLetters, 1024);
    assert.ok(model.calls <= 1 + 64, `${model.calls} calls`);
    assert.match(run.deadLetters!.items[0]!.reason, /HTTP 404: unknown model/);
  });

  it("under 'wait' a configured resilience fallback answers neither the outage nor a bad record, and an input error is not split", async () => {
    const model = new ScriptedModel();
    const resilient = withResilience(model, { fallback: { value: -1 } });
    const out = collect<number>();
    const run = pipeline('bad-fb')
      .from(fromArray([1, -2, 3, 4]))
      .infer(resilient, score)
      .to(out)
      .run({ batchSize: 4 });
    const s = await run.done;
    assert.equal(s.counters.deadLetters, 1);
    assert.deepEqual(out.values, [1001, 1003, 1004]);
    assert.equal(resilient.stats().fallbacks, 0);

    model.down = () =>
      new ModelInputError('SLUICE_INFERENCE_INPUT_TYPE', 'x', 'input "x" expects type string, got float32');
    const typed = pipeline('typed')
      .from(fromArray([1, 2, 3, 4]))
      .infer(model, score)
      .to(collect())
      .run({ batchSize: 4 });
    const s2 = await typed.done;
    assert.equal(s2.counters.deadLetters, 4);
    assert.equal(model.failedCalls, 1, 'one call: splitting cannot mend a tensor of the wrong type');
    assert.match(typed.deadLetters!.items[0]!.reason, /expects type string/);
  });

  it('a row of the wrong width and an answer that does not split into rows go to the dead letters with the reason', async () => {
    const model = new ScriptedModel();
    const run = pipeline('shape')
      .from(fromArray([1, 2, 3, 4]))
      .infer(model, { width: 1, input: (i) => (i === 2 ? [i, i] : [i]), output: (_i, row) => row[0]! })
      .to(collect())
      .run({ batchSize: 4 });
    const s = await run.done;
    assert.equal(s.counters.deadLetters, 1);
    assert.match(run.deadLetters!.items[0]!.reason, /input gave 2 features, the model takes 1/);

    model.malformed = true;
    const bad = pipeline('malformed')
      .from(fromArray([1, 2, 3]))
      .infer(model, score)
      .to(collect())
      .run({ batchSize: 3 });
    const s2 = await bad.done;
    assert.equal(s2.counters.deadLetters, 3, 'a malformed answer is not waited out');
    assert.match(
      bad.deadLetters!.items[0]!.reason,
      /output "score" has 2 values, which do not split into 3 rows/,
    );
  });

  it('stop() while waiting ends cleanly without checkpointing the held batch; the next run scores it exactly once', async () => {
    const model = new ScriptedModel();
    const store = new MemoryCheckpointStore();
    const ledger = ActionLedger.open(join(tmp, 'stop.jsonl'));
    const values = Array.from({ length: 50 }, (_, i) => i);
    const build = () =>
      pipeline('stop')
        .from(fromArray(values))
        .infer(model, { ...score, waitBackoff: { initialDelayMs: 1000, maxDelayMs: 1000 } })
        .to(action({ name: 'score', ledger, payload: (v) => v }));
    model.down = () => new RemoteModelError('connection refused', 0);
    const first = build().run({ batchSize: 10, checkpoints: store, checkpointIntervalMs: 1 });
    await sleep(50);
    const began = performance.now();
    const s1 = await first.stop();
    assert.ok(performance.now() - began < 500, 'the stop did not wait for the model');
    assert.equal(s1.stopped, true);
    assert.equal(s1.counters.deadLetters, 0);
    assert.equal(ledger.size, 0, 'nothing was acted on');
    const saved = await store.load('stop');
    assert.equal(saved?.offsets['array/0'] ?? 0, 0, 'no checkpoint passed the held records');

    model.down = undefined;
    const s2 = await build().run({ batchSize: 10, checkpoints: store, checkpointIntervalMs: 1 }).done;
    assert.equal(s2.counters.deadLetters, 0);
    assert.equal(ledger.size, 50, 'each record acted on exactly once');
    assert.deepEqual(
      [...ledger.entries()].map((e) => e.payload),
      values.map((v) => v + 1000),
    );
    ledger.close();
  });

  it('rejects an unknown policy with the ones it takes', () => {
    assert.throws(
      () =>
        pipeline('p')
          .from(fromArray([1]))
          .infer(new ScriptedModel(), { ...score, onUnavailable: 'retry' as never }),
      /onUnavailable must be one of wait, deadLetter, fallback, got retry/,
    );
  });
});
