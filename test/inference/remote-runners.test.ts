import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DynamicBatcher,
  float32Tensor,
  InferenceErrorCodes,
  KServeModel,
  ModelInputError,
  ModelLoadError,
  ModelOverloadedError,
  OpenAIModel,
  parseClassification,
  RemoteModelError,
  withResilience,
  type Tensor,
} from '../../src/inference/index.js';
import { startKServeServer, startOpenAIServer, type TestServer } from './servers.js';

const rows = (...values: number[]): Record<string, Tensor> => ({
  features: float32Tensor(
    values.flatMap((v) => [v, v, v]),
    [values.length, 3],
  ),
});
const scores = (out: Record<string, Tensor>): number[] => Array.from(out.score!.data as Float32Array);
const texts = (...t: string[]): Record<string, Tensor> => ({
  text: { type: 'string', data: t, dims: [t.length] },
});

describe('KServeModel (Open Inference Protocol v2 over HTTP)', () => {
  let server: TestServer;
  before(async () => (server = await startKServeServer('fraud', 3)));
  after(() => server.close());

  it('loads metadata at connect and scores a batch, flattened row-major', async () => {
    const model = await KServeModel.connect({ url: server.url, model: 'fraud', version: '1' });
    assert.deepEqual(model.metadata, {
      name: 'fraud',
      version: '1',
      inputs: [{ name: 'features', type: 'float32', dims: [-1, 3] }],
      outputs: [{ name: 'score', type: 'float32', dims: [-1, 1] }],
    });
    const out = await model.run({ features: float32Tensor([1, 2, 3, 0.5, 0.25, -1], [2, 3]) });
    assert.deepEqual(out.score!.dims, [2, 1]);
    assert.deepEqual(scores(out), [6, -0.25]);
    assert.equal(await model.live(), true);
    assert.equal(await model.ready(), true);
    assert.equal(await model.serverReady(), true);
    await model.close();
  });

  it('addresses a version through /versions/{v}', async () => {
    const v2 = await KServeModel.connect({ url: server.url, model: 'fraud', version: '2' });
    assert.deepEqual(scores(await v2.run(rows(1))), [1003]);
  });

  it('fails to connect with a ModelLoadError naming the problem', async () => {
    await assert.rejects(
      KServeModel.connect({ url: server.url, model: 'nope' }),
      (e: unknown) => e instanceof ModelLoadError && /no such model or version/.test(e.message),
    );
    await assert.rejects(
      KServeModel.connect({ url: 'http://127.0.0.1:1', model: 'fraud', connectTimeoutMs: 2000 }),
      (e: unknown) => e instanceof ModelLoadError && /could not reach/.test(e.message),
    );
  });

  it('checks inputs locally, before any request', async () => {
    const model = await KServeModel.connect({ url: server.url, model: 'fraud' });
    const before = server.requests;
    await assert.rejects(
      model.run({ features: float32Tensor([1, 2], [1, 2]) }),
      (e: unknown) => e instanceof ModelInputError && e.code === InferenceErrorCodes.inputDims,
    );
    assert.equal(server.requests, before);
  });

  it('maps 503 to shed load (retryable, not a model error) and 500 to a remote model error', async () => {
    const model = await KServeModel.connect({ url: server.url, model: 'fraud' });
    server.script.push({ status: 503 }, { status: 500, body: '{"error":"CUDA out of memory"}' });
    await assert.rejects(
      model.run(rows(1)),
      (e: unknown) => e instanceof ModelOverloadedError && e.retryable,
    );
    await assert.rejects(
      model.run(rows(1)),
      (e: unknown) =>
        e instanceof RemoteModelError &&
        e.status === 500 &&
        !e.retryable &&
        /CUDA out of memory/.test(e.message),
    );
    assert.deepEqual(scores(await model.run(rows(2))), [1006]);
  });
});

describe('OpenAIModel (OpenAI-compatible API)', () => {
  let server: TestServer;
  const saved = process.env.SLUICE_TEST_OPENAI_KEY;
  before(async () => {
    server = await startOpenAIServer('test-key');
    process.env.SLUICE_TEST_OPENAI_KEY = 'test-key';
  });
  after(async () => {
    if (saved === undefined) delete process.env.SLUICE_TEST_OPENAI_KEY;
    else process.env.SLUICE_TEST_OPENAI_KEY = saved;
    await server.close();
  });
  const base = (): { baseUrl: string; apiKeyEnv: string } => ({
    baseUrl: `${server.url}/v1`,
    apiKeyEnv: 'SLUICE_TEST_OPENAI_KEY',
  });

  it('embeds a batch of texts in one request, rows in input order', async () => {
    const model = await OpenAIModel.connect({ task: 'embeddings', model: 'emb-small', ...base() });
    const out = await model.run(texts('banana', 'kiwi'));
    assert.deepEqual(out.embedding!.dims, [2, 3]);
    assert.deepEqual(Array.from(out.embedding!.data as Float32Array), [6, 3, 1, 4, 0, 1]);
    assert.equal(model.stats().requests, 1);
    assert.equal(model.idempotent, true);
  });

  it('classifies each message with chat/completions, parsing label and score into tensors', async () => {
    const model = await OpenAIModel.connect({
      task: 'classify',
      model: 'chat-small',
      labels: ['legit', 'fraud'],
      ...base(),
    });
    const out = await model.run(texts('I want a refund now or else', 'lunch with Bob', 'refund!!'));
    assert.deepEqual(Array.from(out.label!.data as Int32Array), [1, 0, 1]);
    const s = Array.from(out.score!.data as Float32Array);
    assert.ok(Math.abs(s[0]! - 0.91) < 1e-6 && Math.abs(s[1]! - 0.8) < 1e-6, `scores ${s}`);
    assert.deepEqual(out.score!.dims, [3, 1]);
  });

  it('reads the API key from the environment, and says which variable when the server refuses', async () => {
    await assert.rejects(
      OpenAIModel.connect({
        task: 'embeddings',
        model: 'emb-small',
        baseUrl: `${server.url}/v1`,
        apiKey: 'wrong',
      }),
      (e: unknown) => e instanceof ModelLoadError && /Incorrect API key/.test(e.message),
    );
    await assert.rejects(
      OpenAIModel.connect({ task: 'embeddings', model: 'missing', ...base() }),
      /model "missing" is not served/,
    );
    await assert.rejects(
      OpenAIModel.connect({
        task: 'embeddings',
        model: 'x',
        apiKeyEnv: 'SLUICE_UNSET_KEY_VAR',
        baseUrl: 'https://api.openai.com/v1',
      }),
      /set the environment variable SLUICE_UNSET_KEY_VAR/,
    );
  });

  it('batches single texts from concurrent callers into one /embeddings request', async () => {
    const model = await OpenAIModel.connect({ task: 'embeddings', model: 'emb-small', ...base() });
    const batcher = new DynamicBatcher(model, { maxBatchSize: 16, maxQueueDelayMicros: 2_000 });
    const before = server.requests;
    const out = await Promise.all(['a', 'bb', 'aaa'].map((t) => batcher.run(texts(t))));
    assert.equal(server.requests - before, 1);
    assert.deepEqual(
      out.map((o) => Array.from(o.embedding!.data as Float32Array)),
      [
        [1, 1, 1],
        [2, 0, 1],
        [3, 3, 1],
      ],
    );
    await batcher.close();
  });

  it('retries a slow chat answer after a timeout (classify at temperature 0 is idempotent)', async () => {
    const model = await OpenAIModel.connect({
      task: 'classify',
      model: 'chat-small',
      labels: ['legit', 'fraud'],
      ...base(),
    });
    const safe = withResilience(model, {
      timeoutMs: 150,
      retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 5 },
    });
    server.script.push({ delayMs: 800 });
    const out = await safe.run(texts('refund please'));
    assert.deepEqual(Array.from(out.label!.data as Int32Array), [1]);
    assert.deepEqual([safe.stats().timeouts, safe.stats().retries], [1, 1]);
    const sampled = await OpenAIModel.connect({
      task: 'classify',
      model: 'chat-small',
      labels: ['legit', 'fraud'],
      temperature: 0.8,
      ...base(),
    });
    assert.equal(sampled.idempotent, false, 'sampled answers are not retried');
  });

  it('parses labels and scores from JSON, prose and percentages', () => {
    const labels = ['legit', 'fraud'];
    assert.deepEqual(parseClassification('{"label": "FRAUD", "score": "0.7"}', labels), {
      label: 1,
      score: 0.7,
    });
    assert.deepEqual(parseClassification('Fraud, 87% sure', labels), { label: 1, score: 0.87 });
    assert.deepEqual(parseClassification('legit', labels), { label: 0, score: 1 });
    assert.equal(parseClassification('no idea', labels).label, -1);
    assert.equal(parseClassification('fraudster', labels).label, -1, 'labels match whole words only');
  });
});
