import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { action } from '../../src/actions/index.js';
import { count, pipeline, sum, tumbling, valueState } from '../../src/stream/index.js';
import { fakeModel, MemoryCheckpointStore, testDriver } from '../../src/testing.js';

interface Tx {
  card: string;
  amount: number;
  ts: number;
}
const at = (s: number) => Date.UTC(2026, 0, 1, 0, 0, s);
const tx = (card: string, amount: number, s: number): Tx => ({ card, amount, ts: at(s) });

describe('testDriver', () => {
  it('feeds records and reads outputs, step by step', async () => {
    const driver = await testDriver<number, number>((t) =>
      pipeline('double')
        .from(t.input)
        .map((n) => n * 2)
        .to(t.output),
    );
    await driver.sendAll([1, 2, 3]);
    assert.deepEqual(driver.readOutputs(), [2, 4, 6]);
    await driver.send(10);
    assert.deepEqual(driver.readOutputs(), [20]);
    assert.deepEqual(driver.outputs, [2, 4, 6, 20]);
    const summary = await driver.close();
    assert.equal(summary.counters.processed, 4);
  });

  it('closes windows only when the test moves the watermark; later records behind it are late', async () => {
    const driver = await testDriver<Tx>((t) =>
      pipeline('per-minute')
        .from(t.input)
        .eventTime((x) => x.ts)
        .keyBy((x) => x.card)
        .window(tumbling({ size: 60_000 }))
        .aggregate({ n: count(), total: sum((x: Tx) => x.amount) })
        .to(t.output),
    );
    await driver.sendAll([tx('a', 5, 1), tx('a', 7, 30), tx('b', 1, 59)]);
    assert.deepEqual(driver.outputs, [], 'no window closes before the watermark passes its end');
    await driver.advanceWatermark(at(59));
    assert.deepEqual(driver.outputs, []);
    await driver.advanceWatermark(at(60));
    assert.deepEqual(driver.readOutputs(), [
      { key: 'a', start: at(0), end: at(60), n: 2, total: 12 },
      { key: 'b', start: at(0), end: at(60), n: 1, total: 1 },
    ]);
    await driver.send(tx('a', 3, 10));
    assert.equal(driver.lateRecords.length, 1);
    assert.match(driver.lateRecords[0]!.reason, /^late: event time 2026-01-01T00:00:10.000Z is behind/);
    assert.deepEqual(driver.lateRecords[0]!.original, tx('a', 3, 10));
    await driver.close();
  });

  it('holds the watermark for a quiet partition until the test moves it', async () => {
    const driver = await testDriver<Tx>(
      (t) =>
        pipeline('two-parts')
          .from(t.input)
          .eventTime((x) => x.ts)
          .keyBy(() => 'all')
          .window(tumbling({ size: 60_000 }))
          .aggregate({ n: count() })
          .to(t.output),
      { partitions: 2 },
    );
    await driver.pipe([
      { value: tx('a', 1, 5), partition: 0 },
      { value: tx('a', 1, 130), partition: 0 },
    ]);
    assert.deepEqual(driver.outputs, [], 'partition 1 has shown nothing: the watermark waits for it');
    await driver.pipe([{ value: tx('b', 1, 70), partition: 1 }]);
    assert.deepEqual(driver.readOutputs(), [{ key: 'all', start: at(0), end: at(60), n: 1 }]);
    await driver.advanceWatermark(at(180));
    assert.deepEqual(
      driver.readOutputs().map((r) => (r as { n: number }).n),
      [1, 1],
    );
    await driver.close();
  });

  it('moves an interval join on by the watermark too: a record behind it is late, not joined', async () => {
    const driver = await testDriver<Tx, string>((t) =>
      pipeline('join')
        .from(t.input)
        .eventTime((x) => x.ts)
        .keyBy((x) => x.card)
        .intervalJoin({ isLeft: (x) => x.amount > 0, within: 10_000, as: (l, r) => `${l.ts}-${r.ts}` })
        .to(t.output),
    );
    await driver.sendAll([tx('a', 1, 1), tx('a', -1, 5)]);
    assert.deepEqual(driver.readOutputs(), [`${at(1)}-${at(5)}`]);
    await driver.advanceWatermark(at(30));
    await driver.send(tx('a', -1, 8));
    assert.deepEqual(driver.readOutputs(), []);
    assert.equal(driver.lateRecords.length, 1);
    await driver.close();
  });

  it('sends a record that a stage rejects to the dead letters with the stage and reason', async () => {
    const driver = await testDriver<string, number>((t) =>
      pipeline('parse')
        .from(t.input)
        .map(
          (s) => {
            const n = Number(s);
            if (Number.isNaN(n)) throw new Error(`not a number: ${s}`);
            return n;
          },
          { name: 'parse' },
        )
        .to(t.output),
    );
    await driver.sendAll(['1', 'x', '3']);
    assert.deepEqual(driver.outputs, [1, 3]);
    assert.equal(driver.deadLetters.length, 1);
    assert.equal(driver.deadLetters[0]!.stage, 'parse');
    assert.match(driver.deadLetters[0]!.reason, /not a number: x/);
    assert.equal(driver.deadLetters[0]!.offset, 1);
    await driver.close();
  });

  it('keeps keyed state across a restart from the checkpoint store', async () => {
    const store = new MemoryCheckpointStore();
    const driver = await testDriver<Tx, { card: string; nth: number }>(
      (t) =>
        pipeline('nth')
          .from(t.input)
          .keyBy((x) => x.card)
          .withState({ seen: valueState<number>() }, (x, s) => {
            const nth = (s.seen.get() ?? 0) + 1;
            s.seen.set(nth);
            return { card: x.card, nth };
          })
          .to(t.output),
      { checkpoints: store },
    );
    await driver.sendAll([tx('a', 1, 1), tx('a', 1, 2), tx('b', 1, 3)]);
    await driver.restart();
    assert.equal(driver.restarts, 1);
    await driver.send(tx('a', 1, 4));
    assert.deepEqual(driver.outputs.at(-1), { card: 'a', nth: 3 }, 'the count went on from the checkpoint');
    assert.ok(store.saves >= 1);
    await driver.close();
  });

  it('after a crash, reads again what the last checkpoint had not covered; actions dedupe on their keys', async () => {
    const driver = await testDriver<Tx, Tx>((t) =>
      pipeline('alerts')
        .from(t.input)
        .keyBy((x) => x.card)
        .to(action({ name: 'alert', when: (x) => x.amount > 100, payload: (x) => x, to: t.actions })),
    );
    await driver.send(tx('a', 500, 1));
    await driver.checkpoint();
    await driver.sendAll([tx('b', 900, 2), tx('c', 5, 3)]);
    assert.deepEqual(
      driver.actions.map((a) => [a.key, a.recordKey]),
      [
        ['alerts/alert/input-0@0', 'a'],
        ['alerts/alert/input-0@1', 'b'],
      ],
    );
    await driver.restart({ crash: true });
    // input-0@1 was delivered but not checkpointed: replayed, its action is a duplicate.
    assert.equal(driver.actions.length, 2);
    assert.deepEqual(
      driver.actionTarget.duplicates.map((a) => a.key),
      ['alerts/alert/input-0@1'],
    );
    await driver.close();
  });

  it('checkpoints when the processing-time clock passes the interval, not before', async () => {
    const store = new MemoryCheckpointStore();
    const driver = await testDriver<number, number>((t) => pipeline('clock').from(t.input).to(t.output), {
      checkpoints: store,
      checkpointIntervalMs: 5000,
    });
    await driver.sendAll([1, 2]);
    await driver.advanceTime(4999);
    assert.equal(store.saves, 0);
    await driver.advanceTime(1);
    assert.equal(store.saves, 1);
    assert.equal(driver.time, 5000);
    assert.deepEqual((await store.load('clock'))?.offsets, { 'input/0': 2 });
    await driver.close();
  });
});

describe('fakeModel', () => {
  const scored = (
    onUnavailable: 'wait' | 'deadLetter',
    model = fakeModel({ score: (row) => row[0]! / 1000 }),
  ) =>
    testDriver<Tx, Tx & { score: number }>((t) =>
      pipeline('score')
        .from(t.input)
        .infer(model, {
          width: 1,
          input: (x) => [x.amount],
          output: (x, row) => ({ ...x, score: row[0]! }),
          onUnavailable,
          waitBackoff: { initialDelayMs: 1, maxDelayMs: 5 },
        })
        .to(t.output),
    );

  it('answers from a function of the row, and refuses input when told to', async () => {
    const model = fakeModel({ score: (row) => row[0]! / 1000 });
    const driver = await scored('wait', model);
    await driver.send(tx('a', 500, 1));
    assert.equal(driver.outputs[0]!.score, 0.5);
    model.failNext(1, 'badInput');
    await driver.send(tx('a', 7, 2));
    assert.equal(driver.deadLetters.length, 1);
    assert.match(driver.deadLetters[0]!.reason, /fake model: refused the input/);
    assert.deepEqual(model.rows, [[500], [7]]);
    assert.equal(model.calls, 2);
    await driver.close();
  });

  it('during an outage, the wait policy holds the batch until the model recovers', async () => {
    const model = fakeModel({ score: 0.25 });
    const driver = await scored('wait', model);
    model.outage();
    await driver.send(tx('a', 1, 1));
    assert.equal(driver.outputs.length, 0, 'held, not dead-lettered');
    assert.deepEqual(driver.deadLetters, []);
    assert.equal(driver.run.metrics.waiting.get('infer'), 1);
    model.recover();
    await driver.settle();
    assert.equal(driver.outputs[0]!.score, 0.25);
    await driver.close();
  });

  it('a crash while a batch is held for a model that is down: after the restart it is scored once', async () => {
    const model = fakeModel({ score: 0.5 });
    const driver = await scored('wait', model);
    await driver.send(tx('a', 1, 1));
    await driver.checkpoint();
    model.outage();
    await driver.send(tx('b', 2, 2));
    await driver.restart({ crash: true });
    model.recover();
    await driver.settle();
    assert.deepEqual(
      driver.outputs.map((o) => o.card),
      ['a', 'b'],
    );
    await driver.close();
  });

  it('during an outage, the deadLetter policy dead-letters the batch with the reason', async () => {
    const model = fakeModel().outage();
    const driver = await scored('deadLetter', model);
    await driver.sendAll([tx('a', 1, 1), tx('b', 2, 2)]);
    assert.equal(driver.deadLetters.length, 2);
    assert.match(driver.deadLetters[0]!.reason, /unavailable \(HTTP 503\)/);
    model.recover();
    await driver.close();
  });

  it('takes the injected latency in real time', async () => {
    const model = fakeModel({ latencyMs: 30, score: [1, 2] });
    const driver = await testDriver<number, number[]>((t) =>
      pipeline('slow')
        .from(t.input)
        .infer(model, { width: 1, input: (n) => [n], output: (_, row) => Array.from(row) })
        .to(t.output),
    );
    const started = Date.now();
    await driver.send(1);
    assert.ok(Date.now() - started >= 25);
    assert.deepEqual(driver.outputs, [[1, 2]]);
    await driver.close();
  });
});
