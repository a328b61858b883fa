import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BulkheadFullError,
  CircuitOpenError,
  float32Tensor,
  InferenceMetrics,
  InferenceTimeoutError,
  KServeModel,
  ModelOverloadedError,
  RemoteModelError,
  withResilience,
  type Tensor,
} from '../../src/inference/index.js';
import { FakeModel, sleep } from './fake-model.js';
import { startKServeServer, type TestServer } from './servers.js';

const rows = (...values: number[]): Record<string, Tensor> => ({
  features: float32Tensor(
    values.flatMap((v) => [v, v, v]),
    [values.length, 3],
  ),
});
const scores = (out: Record<string, Tensor>): number[] => Array.from(out.score!.data as Float32Array);
const fast = { initialDelayMs: 1, maxDelayMs: 5 };

describe('resilience around a KServe model server', () => {
  let server: TestServer;
  let remote: KServeModel;
  before(async () => {
    server = await startKServeServer('fraud', 3);
    remote = await KServeModel.connect({ url: server.url, model: 'fraud', version: '1' });
  });
  after(() => server.close());
  const reset = (): void => {
    server.script.length = 0;
    server.fallbackBehavior = {};
  };

  it('times an attempt out and aborts its HTTP request', async () => {
    reset();
    const model = withResilience(remote, { timeoutMs: 40 });
    server.script.push({ delayMs: 400 });
    await assert.rejects(
      model.run(rows(1)),
      (e: unknown) => e instanceof InferenceTimeoutError && e.retryable,
    );
    for (let i = 0; i < 100 && server.aborted < 1; i++) await sleep(10);
    assert.equal(server.aborted, 1, 'the server saw the client go away');
    assert.equal(model.stats().timeouts, 1);
  });

  it('retries a timed-out attempt: the retry answers, the late first answer is dropped', async () => {
    reset();
    const model = withResilience(remote, { timeoutMs: 150, retry: { maxRetries: 2, ...fast } });
    server.script.push({ delayMs: 800 }, {});
    const before = server.requests;
    assert.deepEqual(scores(await model.run(rows(2))), [6]);
    assert.equal(server.requests - before, 2);
    const s = model.stats();
    assert.equal(s.timeouts, 1);
    assert.equal(s.retries, 1);
    assert.equal(s.successes, 1);
  });

  it('backs off and retries shed load (503), which does not count against the breaker', async () => {
    reset();
    const model = withResilience(remote, {
      retry: { maxRetries: 3, ...fast },
      breaker: { kind: 'consecutive', failures: 2, halfOpenAfterMs: 10_000 },
    });
    server.script.push({ status: 503 }, { status: 503 }, { status: 503 }, {});
    assert.deepEqual(scores(await model.run(rows(1))), [3]);
    const s = model.stats();
    assert.equal(s.shed, 3);
    assert.equal(s.retries, 3);
    assert.equal(s.circuit, 'closed');
  });

  it("waits at least the server's Retry-After before retrying shed load", async () => {
    reset();
    const model = withResilience(remote, { retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 1_000 } });
    server.script.push({ status: 503, headers: { 'retry-after': '0.15' } }, {});
    const t0 = performance.now();
    assert.deepEqual(scores(await model.run(rows(1))), [3]);
    assert.ok(performance.now() - t0 >= 140, `retried after ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('never retries a call that is not idempotent', async () => {
    reset();
    const model = withResilience(remote, { retry: { maxRetries: 3, ...fast } });
    server.script.push({ status: 503 });
    await assert.rejects(model.run(rows(1), { idempotent: false }), ModelOverloadedError);
    assert.equal(model.stats().retries, 0);
  });

  it('opens the circuit after consecutive failures, probes half-open, and closes on success', async () => {
    reset();
    const metrics = new InferenceMetrics();
    const model = withResilience(remote, {
      name: 'kserve-fraud',
      breaker: { kind: 'consecutive', failures: 3, halfOpenAfterMs: 150 },
      metrics,
    });
    server.fallbackBehavior = { status: 500 };
    for (let i = 0; i < 3; i++) await assert.rejects(model.run(rows(1)), RemoteModelError);
    assert.equal(model.stats().circuit, 'open');
    const before = server.requests;
    await assert.rejects(model.run(rows(1)), CircuitOpenError);
    assert.equal(server.requests, before, 'an open circuit sends nothing');
    server.fallbackBehavior = {};
    await sleep(200);
    assert.deepEqual(scores(await model.run(rows(1))), [3], 'the half-open probe succeeds');
    const s = model.stats();
    assert.equal(s.circuit, 'closed');
    assert.deepEqual(
      [s.breakerOpens, s.breakerHalfOpens, s.breakerCloses, s.breakerRejections],
      [1, 1, 1, 1],
    );
    assert.equal(metrics.flat()['resilience.kserve-fraud.circuit'], 0);
    assert.equal(metrics.flat()['resilience.kserve-fraud.breakerOpens'], 1);
  });

  it('re-opens when the half-open probe fails; a ratio breaker opens on the failed share', async () => {
    reset();
    const model = withResilience(remote, {
      breaker: { kind: 'ratio', threshold: 0.4, windowSize: 4, minimumCalls: 4, halfOpenAfterMs: 100 },
    });
    server.script.push({}, { status: 500 }, {}, { status: 500 });
    for (const ok of [true, false, true, false]) {
      if (ok) await model.run(rows(1));
      else await assert.rejects(model.run(rows(1)), RemoteModelError);
    }
    assert.equal(model.stats().circuit, 'open');
    await sleep(130);
    server.script.push({ status: 500 });
    await assert.rejects(model.run(rows(1)), RemoteModelError);
    assert.equal(model.stats().circuit, 'open');
    assert.equal(model.stats().breakerOpens, 2);
  });

  it('rejects calls beyond the bulkhead at once', async () => {
    reset();
    const model = withResilience(remote, { bulkhead: { maxInFlight: 2 } });
    server.fallbackBehavior = { delayMs: 100 };
    const running = [model.run(rows(1)), model.run(rows(2))];
    await assert.rejects(model.run(rows(3)), BulkheadFullError);
    assert.deepEqual((await Promise.all(running)).map(scores), [[3], [6]]);
    assert.equal(model.stats().bulkheadRejections, 1);
  });

  it('falls back to a default value, a rule, or a second model', async () => {
    reset();
    server.fallbackBehavior = { status: 500 };
    const byValue = withResilience(remote, { fallback: { value: { score: 0.5 } } });
    const out = await byValue.run(rows(1, 2));
    assert.deepEqual(out.score!.dims, [2, 1]);
    assert.deepEqual(scores(out), [0.5, 0.5]);
    assert.equal(byValue.stats().fallbacks, 1);

    const byRule = withResilience(remote, {
      fallback: {
        rule: (inputs) => {
          const x = inputs.features!;
          const n = x.dims[0]!;
          const data = Float32Array.from({ length: n }, (_, i) =>
            (x.data as Float32Array)[i * 3]! > 1 ? 1 : 0,
          );
          return { score: float32Tensor(data, [n, 1]) };
        },
      },
    });
    assert.deepEqual(scores(await byRule.run(rows(0.5, 5))), [0, 1]);

    const local = new FakeModel({ offset: 100 });
    const byModel = withResilience(remote, { timeoutMs: 30, fallback: { model: local } });
    server.fallbackBehavior = { delayMs: 300 };
    assert.deepEqual(scores(await byModel.run(rows(1))), [103]);
    assert.equal(byModel.stats().timeouts, 1);
    reset();
  });

  it('falls back when the server is gone (connection refused) and the circuit is open', async () => {
    const gone = await startKServeServer('fraud', 3);
    const model = await KServeModel.connect({ url: gone.url, model: 'fraud' });
    await gone.close();
    const safe = withResilience(model, {
      retry: { maxRetries: 1, ...fast },
      breaker: { kind: 'consecutive', failures: 1, halfOpenAfterMs: 60_000 },
      fallback: { value: 0 },
    });
    assert.deepEqual(scores(await safe.run(rows(1))), [0]);
    assert.deepEqual(scores(await safe.run(rows(1))), [0]);
    const s = safe.stats();
    assert.equal(s.circuit, 'open');
    assert.equal(s.fallbacks, 2);
    // the first call's retry already met the open circuit; the second was refused outright
    assert.equal(s.breakerRejections, 2);
  });

  it('validates options with clear errors', () => {
    assert.throws(() => withResilience(remote, { timeoutMs: 0 }), /timeoutMs is 0/);
    assert.throws(
      () => withResilience(remote, { breaker: { kind: 'ratio', threshold: 0.5, halfOpenAfterMs: 10 } }),
      /exactly one of windowSize/,
    );
    assert.throws(() => withResilience(remote, { fallback: { value: { nope: 1 } } }), /does not have/);
  });
});
