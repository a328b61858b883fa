// Protocol behaviour over real sockets, with the raw test client: version negotiation, topic
// auto-creation, response ordering under long polls, fetch and list-offsets semantics, topic
// admin and committed offsets. Produce semantics are in produce.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRecordBatch } from '../../src/log/index.js';
import { defer, type Msg, RawClient, testBroker } from './helpers.js';
import {
  API_VERSIONS,
  CREATE_TOPICS,
  DELETE_TOPICS,
  fetch,
  LIST_OFFSETS,
  METADATA,
  OFFSET_COMMIT,
  OFFSET_FETCH,
  part,
  produce,
  records,
} from './wire.js';

test('ApiVersions: every version lists the same APIs; an unknown version gets error 35 and a v0 body', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const v0 = await c.send(API_VERSIONS, 0, {});
  const v3 = await c.send(API_VERSIONS, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
  assert.equal(v0.errorCode, 0);
  assert.deepEqual(v3.apiKeys, v0.apiKeys);
  const byKey = new Map(v0.apiKeys.map((k: Msg) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  assert.deepEqual(byKey.get(0), [0, 9], "Produce v0-2 listed for librdkafka's codec check (KAFKA-18659)");
  assert.deepEqual(byKey.get(1), [4, 12]);
  assert.equal(byKey.has(17), false, 'no SASL APIs without SASL');
  const future = await c.send(API_VERSIONS, 99, {});
  assert.equal(future.errorCode, 35);
  assert.deepEqual(future.apiKeys, v0.apiKeys);
  const md = await c.send(METADATA, 9, { topics: [], allowAutoTopicCreation: false });
  assert.equal(md.brokers[0].port, broker.port, 'the connection is still usable');
});

test('Metadata auto-creates topics only when the client allows it; v0 lists all topics', async (t) => {
  const broker = await testBroker(t, { partitions: 3 });
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const no = await c.send(METADATA, 9, { topics: [{ name: 'orders' }], allowAutoTopicCreation: false });
  assert.equal(no.topics[0].errorCode, 3);
  const yes = await c.send(METADATA, 9, { topics: [{ name: 'orders' }], allowAutoTopicCreation: true });
  assert.equal(yes.topics[0].errorCode, 0);
  assert.equal(yes.topics[0].partitions.length, 3);
  assert.deepEqual(
    yes.brokers.map((b: Msg) => [b.nodeId, b.host, b.port]),
    [[0, '127.0.0.1', broker.port]],
  );
  const bad = await c.send(METADATA, 9, { topics: [{ name: 'no/slash' }], allowAutoTopicCreation: true });
  assert.equal(bad.topics[0].errorCode, 17);
  const all = await c.send(METADATA, 0, { topics: [] });
  assert.deepEqual(
    all.topics.map((x: Msg) => x.name),
    ['orders'],
  );
  const none = await c.send(METADATA, 1, { topics: [] });
  assert.equal(none.topics.length, 0, 'v1+: an empty list means no topics');
});

test('a long-polling Fetch holds back later responses and is woken by an append', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  const producer = await RawClient.connect(broker.port);
  defer(t, () => (c.close(), producer.close()));
  await produce(producer, 'lp', 0, encodeRecordBatch(records(1), 0));
  const started = Date.now();
  const waiting = fetch(c, 'lp', 0, 1, { maxWaitMs: 20_000, minBytes: 1 });
  const after = c.send(METADATA, 9, { topics: [{ name: 'lp' }], allowAutoTopicCreation: false });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c.arrivals.length, 0, 'nothing may overtake the waiting fetch');
  await produce(producer, 'lp', 0, encodeRecordBatch(records(2, 1), 0));
  const [f, md] = await Promise.all([waiting, after]);
  assert.ok(Date.now() - started < 15_000, 'woken by the append, not by max_wait_ms');
  assert.deepEqual(c.arrivals, [f._cid, md._cid]);
  assert.equal(part(f).highWatermark, 3);
  assert.ok(part(f).records.length > 0);
  const timedOut = await fetch(c, 'lp', 0, 3, { maxWaitMs: 100, minBytes: 1 });
  assert.equal(part(timedOut).records.length, 0, 'max_wait_ms passes with nothing new: empty records');
});

test('Fetch returns whole stored batches from the one containing the offset, and range errors', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const b1 = encodeRecordBatch(records(5), 0);
  const b2 = encodeRecordBatch(records(5, 5), 0);
  assert.equal(part(await produce(c, 'f', 0, b1)).baseOffset, 0);
  assert.equal(part(await produce(c, 'f', 0, b2)).baseOffset, 5);
  const mid = part(await fetch(c, 'f', 0, 7));
  assert.equal(mid.errorCode, 0);
  assert.equal(mid.records.length, b2.length, 'starts at the batch holding offset 7');
  assert.equal(mid.records.readBigInt64BE(0), 5n);
  const tiny = part(await fetch(c, 'f', 0, 0, { maxBytes: 10 }));
  assert.equal(tiny.records.length, b1.length, 'the first batch comes whole even past max_bytes');
  const out = part(await fetch(c, 'f', 0, 11));
  assert.deepEqual([out.errorCode, out.highWatermark, out.logStartOffset], [1, 10, 0]);
  const unknown = part(await fetch(c, 'nope', 0, 0));
  assert.equal(unknown.errorCode, 3);
});

test('ListOffsets: earliest, latest, and the first offset at or after a timestamp', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const T0 = 1_700_000_000_000;
  await produce(c, 'time', 0, encodeRecordBatch(records(10, 0, T0), 0));
  await produce(c, 'time', 0, encodeRecordBatch(records(10, 10, T0 + 100), 0));
  const ask = async (timestamp: number, version = 6) =>
    (
      await c.send(LIST_OFFSETS, version, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'time', partitions: [{ partitionIndex: 0, timestamp }] }],
      })
    ).topics[0].partitions[0];
  assert.equal((await ask(-2)).offset, 0);
  assert.equal((await ask(-1, 1)).offset, 20);
  const at = await ask(T0 + 5);
  assert.deepEqual([at.offset, at.timestamp], [5, T0 + 5]);
  assert.equal((await ask(T0 + 50)).offset, 10, 'between batches: the next record');
  assert.equal((await ask(T0 + 1000)).offset, -1, 'after everything: none');
});

test('CreateTopics and DeleteTopics', async (t) => {
  const broker = await testBroker(t, { partitions: 2 });
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const create = (name: string, numPartitions: number, replicationFactor = 1, validateOnly = false) =>
    c
      .send(CREATE_TOPICS, 7, {
        topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [] }],
        timeoutMs: 1000,
        validateOnly,
      })
      .then((r: Msg) => r.topics[0]);
  const made = await create('a', 4);
  assert.deepEqual([made.errorCode, made.numPartitions], [0, 4]);
  assert.equal((await create('b', -1)).numPartitions, 2, '-1: the broker default');
  assert.equal((await create('a', 4)).errorCode, 36);
  assert.equal((await create('c', 1, 3)).errorCode, 38);
  assert.equal((await create('d', 0)).errorCode, 37);
  assert.equal((await create('e', 1, 1, true)).errorCode, 0);
  assert.equal(broker.log.hasTopic('e'), false, 'validate_only creates nothing');
  const del = await c.send(DELETE_TOPICS, 6, { topics: [{ name: 'a' }, { name: 'zz' }], timeoutMs: 1000 });
  assert.deepEqual(
    del.responses.map((r: Msg) => r.errorCode),
    [0, 3],
  );
  const old = await c.send(DELETE_TOPICS, 1, { topicNames: ['b'], timeoutMs: 1000 });
  assert.equal(old.responses[0].errorCode, 0);
  assert.deepEqual(broker.log.topics(), []);
});

test('OffsetCommit and OffsetFetch keep offsets and metadata; -1 for nothing committed', async (t) => {
  const broker = await testBroker(t, { partitions: 2 });
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  await c.send(METADATA, 9, { topics: [{ name: 'oc' }], allowAutoTopicCreation: true });
  const commit = await c.send(OFFSET_COMMIT, 8, {
    groupId: 'g',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    topics: [
      {
        name: 'oc',
        partitions: [
          { partitionIndex: 1, committedOffset: 42, committedMetadata: 'note' },
          { partitionIndex: 9, committedOffset: 1, committedMetadata: null },
        ],
      },
    ],
  });
  assert.deepEqual(
    commit.topics[0].partitions.map((p: Msg) => p.errorCode),
    [0, 3],
  );
  const v1 = await c.send(OFFSET_FETCH, 1, {
    groupId: 'g',
    topics: [{ name: 'oc', partitionIndexes: [0, 1] }],
  });
  assert.deepEqual(
    v1.topics[0].partitions.map((p: Msg) => [p.committedOffset, p.metadata]),
    [
      [-1, ''],
      [42, 'note'],
    ],
  );
  const v8 = await c.send(OFFSET_FETCH, 8, {
    groups: [
      { groupId: 'g', topics: null },
      { groupId: 'other', topics: null },
    ],
  });
  assert.deepEqual(v8.groups[0].topics, [
    {
      name: 'oc',
      partitions: [
        { partitionIndex: 1, committedOffset: 42, committedLeaderEpoch: -1, metadata: 'note', errorCode: 0 },
      ],
    },
  ]);
  assert.deepEqual(v8.groups[1].topics, []);
  const stale = await c.send(OFFSET_COMMIT, 2, {
    groupId: 'g',
    generationIdOrMemberEpoch: 5,
    memberId: 'ghost',
    topics: [
      { name: 'oc', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
    ],
  });
  assert.equal(
    stale.topics[0].partitions[0].errorCode,
    25,
    'a member of no group cannot commit with a generation',
  );
});
