// AlterConfigs (33) and DeleteGroups (42), with KafkaJS, kafka-python and confluent-kafka admin
// clients and at the wire: AlterConfigs makes a topic's configs exactly the ones given (the
// others go back to their defaults); DeleteGroups removes a group without members and its
// offsets, and refuses a live one (68) or an unknown one (69).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { needService } from '../helpers/services.js';
import { defer, RawClient, testBroker } from './helpers.js';
import { PYTHON, pythonHas, run } from './processes.js';

const { ConfigResourceTypes } = kafkajs;
const here = new URL('./clients/', import.meta.url).pathname;
const noPython = await needService(
  'python3 with kafka-python and confluent_kafka',
  async () => (await pythonHas('kafka')) && (await pythonHas('confluent_kafka')),
);

test("KafkaJS alterConfigs replaces a topic's configs; deleteGroups removes an empty group and refuses a live one", async (t) => {
  const broker = await testBroker(t);
  broker.log.createTopic('ac', { partitions: 1 });
  broker.log.setTopicConfig('ac', { segmentBytes: 1 << 20 });
  const kafka = new Kafka({ clientId: 'ac', brokers: [broker.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  defer(t, () => admin.disconnect());
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: 'ac',
        configEntries: [{ name: 'retention.ms', value: '3600000' }],
      },
    ],
  });
  assert.deepEqual(
    broker.log.topicConfig('ac'),
    { retentionMs: 3_600_000 },
    'segment.bytes back to its default',
  );
  await assert.rejects(
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'ac',
          configEntries: [{ name: 'retention.ms', value: 'soon' }],
        },
      ],
    }),
    /Configuration is invalid/, // INVALID_CONFIG (40)
  );

  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  await c.send(8, 2, {
    groupId: 'gone',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    retentionTimeMs: -1,
    topics: [
      { name: 'ac', partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: null }] },
    ],
  });
  const consumer = kafka.consumer({ groupId: 'live' });
  await consumer.connect();
  defer(t, () => consumer.disconnect());
  await consumer.subscribe({ topic: 'ac', fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  await new Promise((r) => setTimeout(r, 2000)); // joined
  const res = await c.send(42, 2, { groupsNames: ['gone', 'live', 'never', ''] });
  assert.deepEqual(
    res.results.map((r: { groupId: string; errorCode: number }) => [r.groupId, r.errorCode]),
    [
      ['gone', 0],
      ['live', 68],
      ['never', 69],
      ['', 24],
    ],
  );
  assert.equal(broker.log.offsets.committed('gone', 'ac', 0), undefined, 'its offsets are gone');
  await admin.deleteGroups(['gone2']).catch(() => {}); // unknown: refused, not a crash
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
  assert.deepEqual(groups, ['live']);
});

for (const client of ['kafka-python', 'confluent'] as const) {
  test(
    `${client} admin: alter_configs${client === 'confluent' ? ' (its 1.7 has no delete_consumer_groups)' : ' and delete_consumer_groups'}`,
    { skip: noPython, timeout: 90_000 },
    async (t) => {
      const broker = await testBroker(t);
      broker.log.createTopic('py-ac', { partitions: 1 });
      const c = await RawClient.connect(broker.port);
      defer(t, () => c.close());
      await c.send(8, 2, {
        groupId: 'py-gone',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        retentionTimeMs: -1,
        topics: [
          { name: 'py-ac', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      });
      const r = await run(
        PYTHON,
        [`${here}alter_delete_python.py`, client, broker.address, 'py-ac', 'py-gone'],
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as { alter: number[]; delete: Record<string, number> | null };
      assert.deepEqual(out, { alter: [0], delete: client === 'confluent' ? null : { 'py-gone': 0 } });
      assert.deepEqual(broker.log.topicConfig('py-ac'), { retentionMs: 7_200_000 });
      if (client !== 'confluent')
        assert.equal(broker.log.offsets.committed('py-gone', 'py-ac', 0), undefined);
    },
  );
}
