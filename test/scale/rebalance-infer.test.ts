// A worker's back half runs again (fresh operators, from its saved offsets) after every
// rebalance. What it reports must carry on across those runs: its progress `processed` and its
// /metrics counters are the worker's totals, not the latest assignment's. Before this was so, a
// second worker joining after the first had processed a batch made the figures of both halves
// add up to one batch (or more) short of the input, lag 0, for good — what looked like lost
// records (the Grafana test's `sum(sluice_records_in_total{pipeline="scored"})` never reached
// the input's count) while every record had in fact been processed once.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { count, days, json, lookback, type Envelope, type Model } from '../../src/index.js';
import { Observer } from '../../src/observe/index.js';
import { ScaledWorker, scaledApp, type WorkerEvent } from '../../src/scale.js';
import { testBroker } from '../broker/helpers.js';

const RECORDS = 3000; // about 1500 per repartition partition: more than one batch (1024) each
/** Ids that reached the sink, and how often (a replay after a rebalance may repeat some). */
const seen = new Map<string, number>();

const model: Model = {
  metadata: {
    name: 'm',
    version: '1',
    inputs: [{ name: 'x', type: 'float32', dims: [-1, 1] }],
    outputs: [{ name: 'y', type: 'float32', dims: [-1, 1] }],
  },
  async run(inputs) {
    const n = inputs.x!.dims[0]!;
    return { y: { type: 'float32', data: new Float32Array(n), dims: [n, 1] } };
  },
  async close() {},
};

const app = scaledApp({
  name: 'r',
  input: 'in',
  build: (s) =>
    s
      .decode(json({ user: 'integer' }))
      .keyBy((e) => e.user)
      .features({
        u: lookback({ key: (e: { user: number }) => e.user, windows: [days(1)], aggregate: { n: count() } }),
      })
      .infer(model, { name: 'infer:m', width: 1, input: (e) => [e.features[0]!], output: (e) => e })
      .to({
        name: 'seen',
        write: (records: Envelope<unknown>[]) => {
          for (const r of records) seen.set(r.id!, (seen.get(r.id!) ?? 0) + 1);
        },
      }),
});

/** The value of a counter for pipeline "r" in a Prometheus exposition text (0 when absent). */
const counter = (text: string, name: string): number =>
  Number(new RegExp(`^${name}\\{pipeline="r"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

const until = async (what: string, ok: () => boolean, ms = 60_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

it(
  "a back half's progress and /metrics count every record it processed, across rebalances",
  { timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    broker.log.createTopic('in', { partitions: 2 });
    for (let p = 0; p < 2; p++)
      broker.log.partition('in', p).append(
        Array.from({ length: RECORDS / 2 }, (_, i) => ({
          value: Buffer.from(JSON.stringify({ user: (i * 2 + p) % 97 })),
        })),
      );
    const events: WorkerEvent[] = [];
    const observers = { a: new Observer(), b: new Observer() };
    const start = (member: 'a' | 'b') =>
      ScaledWorker.start(app, {
        brokers: [broker.address],
        group: 'r',
        member,
        sessionTimeoutMs: 6000,
        checkpointIntervalMs: 200,
        progressIntervalMs: 100,
        observer: observers[member],
        onEvent: (e) => events.push(e),
      });
    /** Each member's last back-half progress `processed`, summed. */
    const backProcessed = () => {
      const last = new Map<string, number>();
      for (const e of events)
        if (e.event === 'progress' && e.half === 'back') last.set(e.member, e.processed);
      return [...last.values()].reduce((a, b) => a + b, 0);
    };
    const recordsIn = async (o: Observer) => counter(await o.prometheus.metrics(), 'sluice_records_in_total');

    // One worker processes everything: its back half ran (and checkpointed) more than a batch.
    const a = await start('a');
    await until(
      'worker a to process every record',
      () => seen.size === RECORDS && backProcessed() >= RECORDS,
    );
    const aBefore = await recordsIn(observers.a);
    assert.ok(aBefore >= RECORDS, `a's /metrics counted ${aBefore} records in`);

    // A second worker joins: both back halves run again, over one partition each.
    const b = await start('b');
    await until('both workers to own one partition', () => {
      const owned = new Map<string, number[]>();
      for (const e of events) if (e.event === 'assigned') owned.set(e.member, e.partitions);
      return owned.size === 2 && [...owned.values()].every((p) => p.length === 1);
    });
    // Let each new run tick at least once.
    const ticks = events.length;
    await until('progress after the rebalance', () =>
      ['a', 'b'].every((m) =>
        events.slice(ticks).some((e) => e.event === 'progress' && e.half === 'back' && e.member === m),
      ),
    );
    await Promise.all([a.stop(), b.stop()]);

    assert.equal(seen.size, RECORDS, 'every record reached the sink');
    assert.ok(
      backProcessed() >= RECORDS,
      `the workers' last progress events add up to ${backProcessed()} processed of ${RECORDS}`,
    );
    const aAfter = await recordsIn(observers.a);
    assert.ok(aAfter >= aBefore, `a's sluice_records_in_total went back from ${aBefore} to ${aAfter}`);
    const total = aAfter + (await recordsIn(observers.b));
    assert.ok(total >= RECORDS, `sum(sluice_records_in_total) is ${total} of ${RECORDS}`);
    const stopped = events.filter((e) => e.event === 'stopped');
    const backTotal = stopped.reduce((n, e) => n + (e.back?.processed ?? 0), 0);
    // Replays after the rebalance count again; nothing is counted twice within one worker.
    const replayed = [...seen.values()].reduce((n, k) => n + k - 1, 0);
    assert.equal(backTotal, RECORDS + replayed, "the stopped events' back totals");
    observers.a.close();
    observers.b.close();
  },
);
