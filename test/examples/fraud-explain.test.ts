// The fraud-alert explanation example (examples/fraud/explain-alerts.ts) against the fake
// OpenAI-compatible server: every alert explained with the schema's JSON, one unusable answer
// dead-lettered with the reason, a 429 mid-run waited out, the prompt carrying the alert.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, fromArray } from '../../src/testing.js';
import {
  EXPLANATION_SCHEMA,
  explainAlerts,
  explanationModel,
  type ExplainedAlert,
  type FraudAlert,
} from '../../examples/fraud/explain-alerts.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';

describe('example: explaining fraud alerts with an LLM', () => {
  let fake: FakeOpenAI;
  before(async () => {
    fake = await startFakeOpenAI({ models: ['analyst-7b'] });
  });
  after(() => fake.close());

  it('explains each alert as schema-checked JSON; an answer in prose goes to the dead letters', async () => {
    // The fake "model" reads the alert it was sent and answers as the schema asks (or in prose for amount 0).
    fake.answer = (user) => {
      const alert = JSON.parse(user) as { score: number; transaction: { amount: number } };
      if (alert.transaction.amount === 0) return 'Sorry, I cannot assess this transaction.';
      return JSON.stringify({
        summary: `Scored ${alert.score} on an amount of ${alert.transaction.amount}.`,
        riskFactors: alert.transaction.amount > 220 ? ['amount over 220'] : ['risky terminal'],
        action: alert.score > 0.9 ? 'block_card' : 'call_customer',
      });
    };
    fake.throttles.push({ retryAfter: '0.2' }); // the first request is throttled: waited out, not lost
    const alerts: FraudAlert[] = Array.from({ length: 12 }, (_v, i) => ({
      txId: i,
      customerId: 100 + i,
      terminalId: 7,
      amount: i === 5 ? 0 : 50 + 100 * i,
      score: i % 2 === 0 ? 0.95 : 0.8,
      drivers: { TX_AMOUNT: 50 + 100 * i },
    }));
    const llm = await explanationModel({ model: 'analyst-7b', baseUrl: fake.baseUrl });
    const out = collect<ExplainedAlert>();
    const run = explainAlerts(fromArray(alerts), llm, out);
    await run.done;
    assert.equal(out.values.length, 11);
    const first = out.values[0]!;
    assert.equal(first.explanation.action, 'block_card');
    assert.equal(first.explanation.summary, 'Scored 0.95 on an amount of 50.');
    assert.deepEqual(
      out.values.map((a) => a.txId),
      [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11],
    );
    assert.ok(out.values.every((a) => a.explanation.riskFactors.length === 1));
    const dead = run.deadLetters!.items;
    assert.equal(dead.length, 1);
    assert.match(dead[0]!.reason, /structured output is not JSON.*"Sorry, I cannot assess/);
    assert.equal(fake.log.filter((e) => e.status === 429).length, 1);
    const sent = fake.log[0]!.body as {
      response_format: { json_schema: { schema: unknown } };
      messages: { role: string }[];
    };
    assert.deepEqual(sent.response_format.json_schema.schema, EXPLANATION_SCHEMA);
    assert.equal(sent.messages[0]!.role, 'system');
    await llm.close();
  });
});
