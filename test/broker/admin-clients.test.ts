// The admin calls tools make, from real clients: KafkaJS's admin (listGroups, describeGroups,
// resetOffsets/setOffsets, describeConfigs, createPartitions, deleteTopicRecords,
// describeCluster), kafka-python's KafkaAdminClient and confluent-kafka's AdminClient; and
// IncrementalAlterConfigs and OffsetDelete, which none of these client versions sends, over the wire.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { needService } from '../helpers/services.js';
import { defer, RawClient, testBroker } from './helpers.js';
import { PYTHON, pythonHas, run } from './processes.js';
import { recordCells } from './interop-results.js';

const here = new URL('./clients/', import.meta.url).pathname;
const noKafkaPython = await needService('python3 with kafka-python', () => pythonHas('kafka'));
const noConfluent = await needService('python3 with confluent_kafka', () => pythonHas('confluent_kafka'));

/** A topic of `partitions` with 10 records, and a group that read them all and committed. */
async function groupThatConsumed(
  t: TestContext,
  kafka: Kafka,
  topic: string,
  group: string,
  partitions: number,
) {
  const admin = kafka.admin();
  await admin.connect();
  defer(t, () => admin.disconnect());
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: 10 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: i % partitions,
    })),
  });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  defer(t, () => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachMessage: async () => {
      seen++;
    },
  });
  const end = Date.now() + 30_000;
  while (seen < 10 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen, 10, 'the group read every record');
  await consumer.commitOffsets([]); // autocommit covers it; this flushes any pending commit
  return { admin, consumer };
}

function kafkaFor(address: string): Kafka {
  return new Kafka({ clientId: 'admin-test', brokers: [address], logLevel: logLevel.NOTHING });
}

async function offsetsOf(admin: Admin, group: string, topic: string): Promise<string[]> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return t.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
}

test('KafkaJS admin: groups listed and described, offsets reset and set, configs, partitions, records deleted', async (t) => {
  const broker = await testBroker(t);
  const kafka = kafkaFor(broker.address);
  const { admin, consumer } = await groupThatConsumed(t, kafka, 'adm', 'g-adm', 2);

  const { groups } = await admin.listGroups();
  assert.deepEqual(groups, [{ groupId: 'g-adm', protocolType: 'consumer' }]);
  const live = (await admin.describeGroups(['g-adm', 'never-seen'])).groups;
  assert.equal(live[0].state, 'Stable');
  assert.equal(live[0].protocolType, 'consumer');
  assert.equal(live[0].members.length, 1);
  assert.equal(live[0].members[0].clientId, 'admin-test');
  assert.equal(live[0].members[0].clientHost, '/127.0.0.1');
  assert.ok(live[0].members[0].memberAssignment.length > 0, 'the assignment is shown when stable');
  assert.equal(live[1].state, 'Dead', 'an unknown group is Dead, as Kafka says');

  assert.deepEqual(await offsetsOf(admin, 'g-adm', 'adm'), ['5', '5']);
  await consumer.disconnect();
  assert.equal((await admin.describeGroups(['g-adm'])).groups[0].state, 'Empty');
  await admin.resetOffsets({ groupId: 'g-adm', topic: 'adm', earliest: true });
  assert.deepEqual(await offsetsOf(admin, 'g-adm', 'adm'), ['-1', '-1'], 'reset: no valid commit');
  await admin.setOffsets({ groupId: 'g-adm', topic: 'adm', partitions: [{ partition: 1, offset: '3' }] });
  assert.deepEqual(await offsetsOf(admin, 'g-adm', 'adm'), ['-1', '3']);

  const described = await admin.describeConfigs({
    resources: [{ type: 2, name: 'adm', configNames: ['retention.ms', 'segment.bytes', 'cleanup.policy'] }],
    includeSynonyms: false,
  });
  const entries = Object.fromEntries(
    described.resources[0].configEntries.map((c) => [c.configName, c.configValue]),
  );
  assert.deepEqual(entries, {
    'retention.ms': '-1',
    'segment.bytes': String(64 << 20),
    'cleanup.policy': 'delete',
  });

  await admin.createPartitions({ topicPartitions: [{ topic: 'adm', count: 4 }] });
  const md = await admin.fetchTopicMetadata({ topics: ['adm'] });
  assert.equal(md.topics[0].partitions.length, 4);
  await assert.rejects(
    admin.createPartitions({ topicPartitions: [{ topic: 'adm', count: 2 }] }),
    /partitions/i,
    'partitions are never removed',
  );

  await admin.deleteTopicRecords({ topic: 'adm', partitions: [{ partition: 0, offset: '3' }] });
  const low = await admin.fetchTopicOffsets('adm');
  assert.deepEqual(
    low.filter((p) => p.partition === 0).map((p) => [p.low, p.high]),
    [['3', '5']],
  );
  const cluster = await admin.describeCluster();
  assert.deepEqual(
    [cluster.clusterId, cluster.controller, cluster.brokers.map((b) => b.port)],
    ['sluice-embedded', 0, [broker.port]],
  );
  recordCells('test/broker/admin-clients.test.ts', [
    {
      client: 'KafkaJS',
      feature: 'admin',
      status: 'pass',
      detail:
        'listGroups, describeGroups, resetOffsets/setOffsets, describeConfigs, createPartitions, deleteTopicRecords, describeCluster',
    },
  ]);
});

test('records deleted with DeleteRecords stay deleted after a restart; configs altered with IncrementalAlterConfigs too', async (t) => {
  const first = await testBroker(t);
  const kafka = kafkaFor(first.address);
  const { consumer } = await groupThatConsumed(t, kafka, 'keep', 'g-keep', 1);
  const c = await RawClient.connect(first.port);
  defer(t, () => c.close());
  const del = await c.send(21, 2, {
    topics: [{ name: 'keep', partitions: [{ partitionIndex: 0, offset: 4 }] }],
    timeoutMs: 1000,
  });
  assert.deepEqual(del.topics[0].partitions[0], { partitionIndex: 0, lowWatermark: 4, errorCode: 0 });
  const alter = await c.send(44, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: 'keep',
        configs: [
          { name: 'retention.ms', configOperation: 0, value: '3600000' },
          { name: 'segment.bytes', configOperation: 0, value: '1048576' },
        ],
      },
    ],
    validateOnly: false,
  });
  assert.deepEqual(alter.responses[0].errorCode, 0);
  const policy = (value: string) =>
    c.send(44, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'keep',
          configs: [{ name: 'cleanup.policy', configOperation: 0, value }],
        },
      ],
      validateOnly: false,
    });
  const refused = await policy('shred');
  assert.equal(refused.responses[0].errorCode, 40, 'an unknown policy: INVALID_CONFIG');
  assert.match(refused.responses[0].errorMessage, /"delete", "compact" or "compact,delete"/);

  // OffsetDelete: refused while a live member subscribes to the topic, done once it left.
  const delOffsets = () =>
    c.send(47, 0, { groupId: 'g-keep', topics: [{ name: 'keep', partitions: [{ partitionIndex: 0 }] }] });
  assert.equal((await delOffsets()).topics[0].partitions[0].errorCode, 86);
  await consumer.disconnect();
  assert.equal((await delOffsets()).topics[0].partitions[0].errorCode, 0);
  const fetched = await c.send(9, 7, {
    groupId: 'g-keep',
    topics: [{ name: 'keep', partitionIndexes: [0] }],
    requireStable: false,
  });
  assert.equal(fetched.topics[0].partitions[0].committedOffset, -1, 'the commit is gone');

  // CreateTopics applies the configs the broker has, ignores others, refuses bad values.
  const creator = kafkaFor(first.address).admin();
  await creator.connect();
  const configEntries = [
    { name: 'retention.ms', value: '60000' },
    { name: 'compression.type', value: 'gzip' },
  ];
  assert.equal(await creator.createTopics({ topics: [{ topic: 'cfg', configEntries }] }), true);
  // "compact" is accepted (changelog topics ask for it): nothing is compacted, and retention
  // never deletes such a topic's records.
  const compacted = [{ name: 'cleanup.policy', value: 'compact' }];
  assert.equal(
    await creator.createTopics({ topics: [{ topic: 'changes', configEntries: compacted }] }),
    true,
  );
  assert.deepEqual(first.log.topicConfig('changes'), { retentionMs: -1, retentionBytes: -1 });
  await assert.rejects(
    creator.createTopics({
      topics: [{ topic: 'bad-cfg', configEntries: [{ name: 'segment.ms', value: 'soon' }] }],
    }),
    (err: { errors?: { type?: string }[] }) => err.errors?.[0]?.type === 'INVALID_CONFIG',
  );
  await creator.disconnect();

  const dataDir = first.log.dir;
  c.close();
  await first.close();
  const second = await testBroker(t, { dataDir });
  const admin = kafkaFor(second.address).admin();
  await admin.connect();
  defer(t, () => admin.disconnect());
  const [p0] = await admin.fetchTopicOffsets('keep');
  assert.deepEqual([p0.low, p0.high], ['4', '10']);
  const described = await admin.describeConfigs({
    resources: [
      { type: 2, name: 'keep', configNames: ['retention.ms', 'segment.bytes', 'retention.bytes'] },
      { type: 2, name: 'cfg', configNames: ['retention.ms'] },
    ],
    includeSynonyms: false,
  });
  assert.deepEqual(
    described.resources[1].configEntries.map((e) => [e.configValue, e.isDefault]),
    [['60000', false]],
    'set at creation',
  );
  const entries = Object.fromEntries(
    described.resources[0].configEntries.map((e) => [e.configName, [e.configValue, e.isDefault]]),
  );
  assert.deepEqual(entries, {
    'retention.ms': ['3600000', false],
    'segment.bytes': ['1048576', false],
    'retention.bytes': ['-1', true],
  });
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
  assert.deepEqual(groups, [], 'the group had nothing committed left, so it is gone');
});

for (const [client, skip] of [
  ['kafka-python', noKafkaPython],
  ['confluent', noConfluent],
] as const) {
  test(
    `${client} admin client: list and describe groups, describe configs, create partitions`,
    { skip },
    async (t) => {
      const broker = await testBroker(t);
      const kafka = kafkaFor(broker.address);
      await groupThatConsumed(t, kafka, 'py-adm', 'g-py', 2);
      const r = await run(PYTHON, [`${here}admin_python.py`, client, broker.address, 'py-adm', 'g-py'], {
        timeoutMs: 90_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      const groups = out.groups as unknown[];
      assert.deepEqual(
        groups.map((g) => (Array.isArray(g) ? g[0] : g)),
        ['g-py'],
      );
      assert.deepEqual(out.describe, { state: 'Stable', protocol_type: 'consumer', members: 1 });
      if (client === 'kafka-python') assert.deepEqual(out.offsets, { 'py-adm-0': 5, 'py-adm-1': 5 });
      const configs = out.configs as Record<string, string>;
      assert.equal(configs['retention.ms'], '-1');
      assert.equal(configs['cleanup.policy'], 'delete');
      assert.equal(out.partitions, client === 'kafka-python' ? 3 : 4);
      recordCells('test/broker/admin-clients.test.ts', [
        {
          client: client === 'confluent' ? 'confluent-kafka' : client,
          feature: 'admin',
          status: 'pass',
          detail: 'list/describe groups, describe configs, create partitions',
        },
      ]);
    },
  );
}
