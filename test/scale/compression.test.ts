// The scale-out worker's `compression` option: what it produces (repartition topic, dead
// letters, state changelog) is stored compressed with that codec.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { count, days, json, lookback } from '../../src/index.js';
import { ScaledWorker, scaledApp } from '../../src/scale.js';
import { collect } from '../../src/testing.js';
import { testBroker } from '../broker/helpers.js';

const app = scaledApp({
  name: 'c',
  input: 'in',
  build: (s) =>
    s
      .decode(json({ user: 'integer' }))
      .keyBy((e) => e.user)
      .features({
        u: lookback({ key: (e: { user: number }) => e.user, windows: [days(1)], aggregate: { n: count() } }),
      })
      .to(collect()),
});

/** Codecs of every stored batch of `topic`. */
function codecs(broker: Awaited<ReturnType<typeof testBroker>>, topic: string): number[] {
  const out: number[] = [];
  for (let p = 0; p < broker.log.partitionCount(topic); p++) {
    const data = broker.log.partition(topic, p).readBatches(0, 1 << 30);
    for (let pos = 0; pos < data.length; pos += 12 + data.readInt32BE(pos + 8))
      out.push(data.readInt16BE(pos + 21) & 7);
  }
  return out;
}

const total = (broker: Awaited<ReturnType<typeof testBroker>>, topic: string) =>
  broker.log.hasTopic(topic)
    ? Array.from(
        { length: broker.log.partitionCount(topic) },
        (_, p) => broker.log.partition(topic, p).highWatermark,
      ).reduce((a, b) => a + b, 0)
    : 0;

it(
  "stores the repartition topic, dead letters and changelog with the worker's codec",
  { timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    broker.log.createTopic('in', { partitions: 2 });
    for (let p = 0; p < 2; p++) {
      const records = Array.from({ length: 100 }, (_, i) => ({
        value: Buffer.from(JSON.stringify({ user: i % 9 })),
      }));
      records.push({ value: Buffer.from('{not json') });
      broker.log.partition('in', p).append(records);
    }
    const worker = await ScaledWorker.start(app, {
      brokers: [broker.address],
      group: 'c',
      member: 'm',
      compression: 'gzip',
    });
    const deadline = Date.now() + 60_000;
    while ((total(broker, 'c-repartition') < 200 || total(broker, 'c-dlq') < 2) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await worker.stop();
    assert.equal(total(broker, 'c-repartition'), 200, 'every good record repartitioned');
    assert.equal(total(broker, 'c-dlq'), 2, 'both bad records dead-lettered');
    assert.deepEqual([...new Set(codecs(broker, 'c-repartition'))], [1], 'repartition batches are gzip');
    assert.deepEqual([...new Set(codecs(broker, 'c-dlq'))], [1], 'dead letters are gzip');
    assert.ok(total(broker, 'c-changelog') > 0, 'the final checkpoint wrote state');
    assert.deepEqual([...new Set(codecs(broker, 'c-changelog'))], [1], 'changelog batches are gzip');
  },
);
