// A pipeline's test with sluice/testing: docs/testing.md shows this file (with imports from
// 'sluice'), and test/testing/docs-example.test.ts runs it and keeps the two the same.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { action, count, minutes, pipeline, sum, tumbling, type ModelLike } from '../../src/index.js';
import { fakeModel, testDriver } from '../../src/testing.js';

interface Payment {
  card: string;
  amount: number;
  ts: number;
}
const at = (minute: number, second = 0) => Date.UTC(2026, 0, 1, 0, minute, second);

/** Spend per card and minute, scored by a model; risky minutes become alerts (actions). */
function cardAlerts(model: ModelLike) {
  return testDriver<Payment>((t) =>
    pipeline('card-alerts')
      .from(t.input)
      .map((p) => {
        if (!(p.amount > 0)) throw new Error(`amount must be > 0, got ${p.amount}`);
        return p;
      })
      .eventTime((p) => p.ts)
      .keyBy((p) => p.card)
      .window(tumbling({ size: minutes(1) }))
      .aggregate({ n: count(), total: sum((p: Payment) => p.amount) })
      .infer(model, {
        width: 2,
        input: (w) => [w.n, w.total],
        output: (w, row) => ({ ...w, risk: row[0]! }),
        waitBackoff: { initialDelayMs: 1, maxDelayMs: 10 },
      })
      .to(
        action({
          name: 'alert',
          when: (w) => w.risk > 0.8,
          payload: (w) => ({ card: w.key, total: w.total }),
          to: t.actions,
        }),
      ),
  );
}

it('alerts once per risky card-minute, and keeps open windows across a restart', async () => {
  // The fake model stands in for the real one: risky when a minute's spend passes 1000.
  const model = fakeModel({ score: ([, total]) => (total! > 1000 ? 0.95 : 0.05) });
  const driver = await cardAlerts(model);

  await driver.send({ card: 'c1', amount: 600, ts: at(0, 10) });
  await driver.send({ card: 'c1', amount: 700, ts: at(0, 50) });
  await driver.send({ card: 'c2', amount: -5, ts: at(0, 55) });
  assert.match(driver.deadLetters[0]!.reason, /amount must be > 0, got -5/);
  assert.equal(driver.actions.length, 0, 'the minute is still open');

  await driver.advanceWatermark(at(1)); // the first minute closes
  assert.deepEqual(
    driver.actions.map((a) => [a.key, a.payload]),
    [[`card-alerts/alert/window-c1@${at(0)}`, { card: 'c1', total: 1300 }]],
  );

  await driver.send({ card: 'c1', amount: 5, ts: at(0, 59) }); // its minute has closed
  assert.match(driver.lateRecords[0]!.reason, /^late: /);

  await driver.send({ card: 'c1', amount: 900, ts: at(1, 10) });
  await driver.restart(); // stops (a final checkpoint) and rebuilds the pipeline from it
  await driver.send({ card: 'c1', amount: 200, ts: at(1, 40) });
  await driver.advanceWatermark(at(2));
  assert.deepEqual(
    driver.actions.at(-1)!.payload,
    { card: 'c1', total: 1100 },
    '900 + 200: the window survived',
  );
  await driver.close();
});

it('holds closed windows while the model is down, and alerts when it is back', async () => {
  const model = fakeModel({ score: 0.9 });
  const driver = await cardAlerts(model);
  await driver.send({ card: 'c3', amount: 50, ts: at(0, 1) });
  model.outage();
  await driver.advanceWatermark(at(1)); // returns once the infer stage is waiting for the model
  assert.equal(driver.actions.length, 0);
  assert.deepEqual(driver.deadLetters, [], 'onUnavailable: wait (the default) holds, never drops');
  model.recover();
  await driver.settle();
  assert.deepEqual(driver.actions[0]!.payload, { card: 'c3', total: 50 });
  await driver.close();
});
