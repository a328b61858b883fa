// Produce over the wire: acks=0, idempotent producer sequences, and the refusals a Kafka
// broker answers with error codes (corrupt CRC, too large, several batches, unknown partition).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRecordBatch } from '../../src/log/index.js';
import { defer, RawClient, testBroker } from './helpers.js';
import { fetch, INIT_PRODUCER_ID, METADATA, part, PRODUCE, produce, records } from './wire.js';

test('acks=0 gets no response, later responses still arrive in order, and the records are stored', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const silent = c.sendOnly(PRODUCE, 9, {
    transactionalId: null,
    acks: 0,
    timeoutMs: 1000,
    topicData: [{ name: 'fire', partitionData: [{ index: 0, records: encodeRecordBatch(records(3), 0) }] }],
  });
  const md = await c.send(METADATA, 9, { topics: [{ name: 'fire' }], allowAutoTopicCreation: false });
  assert.equal(md.topics[0].errorCode, 0, 'the acks=0 produce created the topic');
  assert.ok(!c.arrivals.includes(silent));
  const f = await fetch(c, 'fire', 0, 0);
  assert.equal(part(f).highWatermark, 3);
});

test('idempotent producer: duplicates return the first offset, gaps 45, stale epochs 47', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const init = await c.send(INIT_PRODUCER_ID, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.equal(init.errorCode, 0);
  const pid = init.producerId;
  const batch = (seq: number, n: number, epoch = 0) =>
    encodeRecordBatch(records(n, seq), 0, { producerId: pid, producerEpoch: epoch, baseSequence: seq });
  assert.equal(part(await produce(c, 'idem', 0, batch(0, 3))).baseOffset, 0);
  assert.equal(part(await produce(c, 'idem', 0, batch(3, 2))).baseOffset, 3);
  const dup = part(await produce(c, 'idem', 0, batch(0, 3)));
  assert.deepEqual([dup.errorCode, dup.baseOffset], [0, 0], 'a retried batch is not written twice');
  assert.equal(part(await produce(c, 'idem', 0, batch(9, 1))).errorCode, 45);
  assert.equal(part(await produce(c, 'idem', 0, batch(5, 1))).baseOffset, 5);
  assert.equal(part(await fetch(c, 'idem', 0, 0)).highWatermark, 6);
  const bumped = await c.send(INIT_PRODUCER_ID, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: pid,
    producerEpoch: 0,
  });
  assert.deepEqual([bumped.producerId, bumped.producerEpoch], [pid, 1]);
  assert.equal(part(await produce(c, 'idem', 0, batch(6, 1, 0))).errorCode, 47);
  assert.equal(part(await produce(c, 'idem', 0, batch(0, 1, 1))).baseOffset, 6, 'a new epoch starts at 0');
  // A transactional id gets its own producer id (transactions: transactions-wire.test.ts).
  const txn = await c.send(INIT_PRODUCER_ID, 1, { transactionalId: 'tx', transactionTimeoutMs: 60000 });
  assert.deepEqual([txn.errorCode, txn.producerEpoch], [0, 0]);
  assert.notEqual(txn.producerId, pid);
});

test('Produce refuses corrupt, oversized and multi-batch data with Kafka codes', async (t) => {
  const broker = await testBroker(t, { logOptions: { maxBatchBytes: 4096 } });
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const corrupt = encodeRecordBatch(records(2), 0);
  corrupt[corrupt.length - 1] ^= 0xff;
  const res = part(await produce(c, 'bad', 0, corrupt));
  assert.equal(res.errorCode, 2);
  assert.match(res.errorMessage, /CRC/);
  const big = encodeRecordBatch([{ value: Buffer.alloc(8000) }], 0);
  assert.equal(part(await produce(c, 'bad', 0, big)).errorCode, 10);
  const two = Buffer.concat([encodeRecordBatch(records(1), 0), encodeRecordBatch(records(1), 0)]);
  assert.equal(part(await produce(c, 'bad', 0, two)).errorCode, 87);
  assert.equal(part(await produce(c, 'bad', 7, encodeRecordBatch(records(1), 0))).errorCode, 3);
  assert.equal(part(await produce(c, 'bad', 0, encodeRecordBatch(records(1), 0), 5)).errorCode, 21);
});

test('a failed acks=0 produce closes the connection, since no response can carry the error', async (t) => {
  const broker = await testBroker(t, { autoCreateTopics: false });
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  c.sendOnly(PRODUCE, 9, {
    transactionalId: null,
    acks: 0,
    timeoutMs: 1000,
    topicData: [
      { name: 'missing', partitionData: [{ index: 0, records: encodeRecordBatch(records(1), 0) }] },
    ],
  });
  assert.ok(await c.waitClosed(10_000));
});
