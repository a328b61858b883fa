// LLM models in `.infer()` against a fake OpenAI-compatible server (test/helpers/fake-openai.ts):
// structured chat output (parse failures dead-lettered with the reason), embeddings batched into
// one request per batch, request and token budgets measured in the server's log, Retry-After
// honoured (seconds and HTTP date) and the adaptive concurrency window.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OpenAIModel, pipeline } from '../../src/index.js';
import { collect, fromArray } from '../../src/testing.js';
import { parseRetryAfter } from '../../src/inference/runners/http-json.js';
import { peakInWindow, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';

const schema = {
  type: 'object',
  properties: { label: { type: 'string', enum: ['legit', 'fraud'] }, reason: { type: 'string' } },
  required: ['label', 'reason'],
  additionalProperties: false,
};

const texts = (n: number, prefix = 'alert') =>
  Array.from({ length: n }, (_v, i) => `${prefix} ${String(i).padStart(3, '0')}: amount 912.40 at 03:12`);
const textTensor = (data: string[]) => ({ text: { type: 'string' as const, data, dims: [data.length] } });

describe('OpenAI-compatible LLM models', () => {
  let fake: FakeOpenAI;
  before(async () => {
    fake = await startFakeOpenAI({ models: ['chat-small', 'embed-small'], apiKey: 'sk-test-secret' });
    process.env.SLUICE_TEST_LLM_KEY = 'sk-test-secret';
  });
  after(async () => {
    delete process.env.SLUICE_TEST_LLM_KEY;
    await fake.close();
  });
  beforeEach(() => {
    fake.log.length = 0;
    fake.throttles.length = 0;
    fake.maxInFlight = 0;
    fake.delayMs = 5;
    fake.answer = (user) =>
      JSON.stringify({ label: user.includes('fraud') ? 'fraud' : 'legit', reason: 'r' });
  });
  const connect = (o: Partial<Parameters<typeof OpenAIModel.connect>[0]> = {}) =>
    OpenAIModel.connect({
      task: 'chat',
      model: 'chat-small',
      baseUrl: fake.baseUrl,
      apiKeyEnv: 'SLUICE_TEST_LLM_KEY',
      responseFormat: { name: 'verdict', schema },
      ...o,
    });

  it('structured output: JSON records in, parsed objects out; an answer that does not parse or match goes to the dead letters with the reason', async () => {
    fake.answer = (user) =>
      user.includes('BROKEN')
        ? '{"label": "fraud", "reason": '
        : user.includes('WRONG')
          ? '{"label": "maybe", "reason": "unsure"}'
          : JSON.stringify({
              label: user.includes('card-2') ? 'fraud' : 'legit',
              reason: `looked at ${user.length} chars`,
            });
    const llm = await connect({ instructions: 'Label the alert.' });
    const alerts = ['card-1', 'card-2', 'BROKEN', 'card-4', 'WRONG'].map((card, i) => ({
      card,
      amount: 10 * i,
    }));
    const out = collect<{ card: string; label: string }>();
    const run = pipeline('explain')
      .from(fromArray(alerts))
      .infer(llm, {
        inputType: 'json',
        outputType: 'json',
        input: (a) => a,
        output: (a, [v]) => ({ card: a.card, label: (v as { label: string }).label }),
      })
      .to(out)
      .run();
    await run.done;
    assert.deepEqual(out.values, [
      { card: 'card-1', label: 'legit' },
      { card: 'card-2', label: 'fraud' },
      { card: 'card-4', label: 'legit' },
    ]);
    const reasons = run.deadLetters!.items.map((d) => d.reason);
    assert.equal(reasons.length, 2);
    assert.match(reasons[0]!, /structured output is not JSON: .*answer began "\{\\"label\\": \\"fraud\\"/);
    assert.match(
      reasons[1]!,
      /structured output does not match the schema: \/label must be equal to one of the allowed values/,
    );
    const sent = fake.log[0]!.body;
    assert.deepEqual(sent.response_format, {
      type: 'json_schema',
      json_schema: { name: 'verdict', schema, strict: true },
    });
    assert.deepEqual(JSON.parse((sent.messages as { content: string }[])[1]!.content), alerts[0]);
    assert.equal(llm.stats().unparsed, 2);
    await llm.close();
  });

  it('embeddings are batched: N records → ceil(N / batch) requests, each carrying its batch as an array', async () => {
    const emb = await OpenAIModel.connect({
      task: 'embeddings',
      model: 'embed-small',
      baseUrl: fake.baseUrl,
      apiKeyEnv: 'SLUICE_TEST_LLM_KEY',
    });
    const words = Array.from({ length: 25 }, (_v, i) => 'x'.repeat(i + 1));
    const out = collect<number[]>();
    await pipeline('embed')
      .from(fromArray(words))
      .infer(emb, { inputType: 'string', input: (w) => w, output: (_w, row) => Array.from(row) })
      .to(out)
      .run({ batchSize: 10 }).done;
    assert.equal(fake.log.length, Math.ceil(25 / 10));
    assert.deepEqual(
      fake.log.map((e) => e.inputs),
      [10, 10, 5],
    );
    assert.deepEqual(
      out.values.map((v) => v[0]),
      words.map((w) => w.length),
      'each record got its own vector, in order',
    );
    // A batch larger than the API allows per request is split, and joined back in order.
    fake.log.length = 0;
    const capped = await OpenAIModel.connect({
      task: 'embeddings',
      model: 'embed-small',
      baseUrl: fake.baseUrl,
      apiKeyEnv: 'SLUICE_TEST_LLM_KEY',
      maxInputsPerRequest: 4,
    });
    const res = await capped.run(textTensor(words.slice(0, 10)));
    assert.equal(fake.log.length, 3);
    assert.deepEqual(
      Array.from(res.embedding!.data as Float32Array).filter((_v, i) => i % 3 === 0),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  it('requestsPerMinute is held: the server never sees more than the budget (scaled to a 1 s window) plus the burst', async () => {
    // 1200/min = 20/s; burst 0.25 s = 5 requests. 30 requests unthrottled would all land in ~0.1 s.
    const llm = await connect({ limits: { requestsPerMinute: 1200, burstSeconds: 0.25 }, maxConcurrency: 8 });
    const t0 = Date.now();
    await llm.run(textTensor(texts(30)));
    const elapsed = Date.now() - t0;
    const peak = peakInWindow(fake.log, 1000, () => 1);
    assert.ok(peak <= 5 + 20 + 1, `at most 26 requests in any 1 s window, saw ${peak}`);
    assert.ok(
      elapsed >= ((30 - 5) / 20) * 1000 - 50,
      `30 requests at 20/s after a burst of 5 take >= 1.25 s, took ${elapsed} ms`,
    );
  });

  it('tokensPerMinute is held, counted as the server counts usage', async () => {
    // 24 000/min = 400 tokens/s; burst 0.1 s = 40 tokens; each request uses ~25 tokens.
    const llm = await connect({
      limits: { tokensPerMinute: 24_000, burstSeconds: 0.1 },
      maxTokens: 20, // the estimate charged up front covers the answer, so no window overdraws
      maxConcurrency: 8,
    });
    await llm.run(textTensor(texts(30)));
    const total = fake.log.reduce((n, e) => n + e.tokens, 0);
    assert.equal(llm.stats().tokens, total, 'the client counts the usage the server reports');
    const peak = peakInWindow(fake.log, 500, (e) => e.tokens);
    assert.ok(peak <= 40 + 200 + 30, `at most ~270 tokens in any 0.5 s window, saw ${peak} (total ${total})`);
    const span = fake.log[fake.log.length - 1]!.at - fake.log[0]!.at;
    assert.ok(
      span >= ((total - 40 - 30) / 400) * 1000,
      `${total} tokens at 400/s take their time, took ${span} ms`,
    );
  });

  it('429 with Retry-After in seconds: no request before the time, then the batch completes', async () => {
    fake.throttles.push({ retryAfter: '1' });
    const llm = await connect({ initialConcurrency: 1, maxConcurrency: 4 });
    const res = await llm.run(textTensor(texts(3)));
    assert.deepEqual(
      fake.log.map((e) => e.status),
      [429, 200, 200, 200],
    );
    const refused = fake.log[0]!.at;
    for (const e of fake.log.slice(1))
      assert.ok(e.at >= refused + 1000, `request ${e.at - refused} ms after the 429`);
    assert.equal((res[`$row_errors`]!.data as string[]).join(''), '');
    assert.equal(llm.stats().limiter.throttled, 1);
  });

  it('429 with Retry-After as an HTTP date: no request before that date', async () => {
    const until = Math.ceil((Date.now() + 1200) / 1000) * 1000;
    fake.throttles.push({ retryAfter: new Date(until).toUTCString() });
    const llm = await connect({ initialConcurrency: 1 });
    await llm.run(textTensor(texts(2)));
    assert.equal(fake.log[0]!.status, 429);
    for (const e of fake.log.slice(1)) assert.ok(e.at >= until, `request ${until - e.at} ms before the date`);
  });

  it('adaptive concurrency: the window grows on success up to maxConcurrency and halves on 429', async () => {
    fake.delayMs = 15;
    const llm = await connect({ initialConcurrency: 1, maxConcurrency: 4 });
    await llm.run(textTensor(texts(40)));
    assert.equal(llm.stats().limiter.concurrency, 4, 'grown to the maximum');
    assert.ok(fake.maxInFlight > 1 && fake.maxInFlight <= 4, `in flight at most 4, saw ${fake.maxInFlight}`);
    fake.throttles.push({ retryAfter: '0' });
    await llm.run(textTensor(texts(1)));
    assert.equal(llm.stats().limiter.concurrency, 2, 'halved by the 429');
    assert.equal(llm.stats().limiter.throttled, 1);
  });

  it('the API key goes in the header only: a refused key is named by its variable, never shown', async () => {
    await assert.rejects(
      OpenAIModel.connect({
        task: 'chat',
        model: 'chat-small',
        baseUrl: fake.baseUrl,
        apiKey: 'sk-wrong-key-123',
      }),
      (e: Error) => /Incorrect API key/.test(e.message) && !e.message.includes('sk-wrong-key-123'),
    );
    await assert.rejects(
      OpenAIModel.connect({
        task: 'chat',
        model: 'chat-small',
        baseUrl: fake.baseUrl,
        responseFormat: { name: 'bad name!', schema },
      }),
      /responseFormat\.name is "bad name!"/,
    );
  });

  it('reads Retry-After as seconds (fractions too) or an HTTP date; anything else is no hint', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter('0.25', now), 250);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:28:03 GMT', now), 3000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now), 0, 'a date in the past: go now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});
