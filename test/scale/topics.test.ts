// The topics a scaled app needs are created partitioned like its input, and leftovers with
// another partition count are refused with what to do (state would land on the wrong partitions).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { count, days, json, lookback } from '../../src/index.js';
import { ScaledWorker, scaledApp } from '../../src/scale.js';
import { collect } from '../../src/testing.js';
import { testBroker } from '../broker/helpers.js';

const app = scaledApp({
  name: 't',
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

it('creates the repartition and changelog topics like the input, and refuses mismatched leftovers', async (t) => {
  const broker = await testBroker(t);
  const admin = new Admin({ clientId: 't', bootstrapBrokers: [broker.address] });
  t.after(() => admin.close());
  await admin.createTopics({ topics: ['in'], partitions: 4, replicas: 1 });

  const worker = await ScaledWorker.start(app, { brokers: [broker.address], group: 'good', member: 'm' });
  await worker.stop();
  const meta = await admin.metadata({ topics: ['good-repartition', 'good-changelog', 'good-dlq'] });
  assert.equal(meta.topics.get('good-repartition')?.partitionsCount, 4);
  assert.equal(meta.topics.get('good-changelog')?.partitionsCount, 4);
  assert.equal(meta.topics.get('good-dlq')?.partitionsCount, 1);

  await admin.createTopics({ topics: ['bad-changelog'], partitions: 2, replicas: 1 });
  await assert.rejects(
    ScaledWorker.start(app, { brokers: [broker.address], group: 'bad', member: 'm' }),
    /bad-changelog has 2 partitions but the input in has 4: they must match/,
  );
});
