// Transactions (KIP-98) at the wire level, with hand-made requests: the coordinator's answers
// to good and forged requests (wrong epoch, unknown id, partition not in the transaction, EndTxn
// without one), markers in the log, last stable offset and aborted transactions in
// read_committed fetches, offsets visible only at commit, the transaction timeout, and the
// coordinator state across a restart (and a damaged state file).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startBroker } from '../../src/broker/index.js';
import { writeTxnState } from '../../src/broker/txn/state-file.js';
import { crc32c, encodeRecordBatch } from '../../src/log/index.js';
import { defer, eventually, RawClient, tempDir, testBroker, type Msg } from './helpers.js';
import { FETCH, fetch, INIT_PRODUCER_ID, LIST_OFFSETS, part, PRODUCE, produce, records } from './wire.js';

const FIND_COORDINATOR = 10;
const ADD_PARTITIONS = 24;
const ADD_OFFSETS = 25;
const END_TXN = 26;
const TXN_OFFSET_COMMIT = 28;

/** A transactional batch of `n` records from `seq` on (attribute bit 4 set, CRC redone). */
function txnBatch(pid: number, epoch: number, seq: number, n: number, from = 0): Buffer {
  const b = encodeRecordBatch(records(n, from), 0, {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
  });
  b.writeInt16BE(0x10, 21);
  b.writeUInt32BE(crc32c(b, 21), 17);
  return b;
}

function txnProduce(c: RawClient, txnId: string | null, topic: string, batch: Buffer): Promise<Msg> {
  return c.send(PRODUCE, 9, {
    transactionalId: txnId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
}

const init = (c: RawClient, id: string, timeoutMs = 60_000, version = 4, pid = -1, epoch = -1) =>
  c.send(INIT_PRODUCER_ID, version, {
    transactionalId: id,
    transactionTimeoutMs: timeoutMs,
    producerId: pid,
    producerEpoch: epoch,
  });
const addPartitions = (c: RawClient, id: string, pid: number, epoch: number, topic: string, version = 3) =>
  c
    .send(ADD_PARTITIONS, version, {
      transactionalId: id,
      producerId: pid,
      producerEpoch: epoch,
      topics: [{ name: topic, partitions: [0] }],
    })
    .then((r: Msg) => r.results[0].results[0].partitionErrorCode as number);
const endTxn = (c: RawClient, id: string, pid: number, epoch: number, committed: boolean, version = 3) =>
  c
    .send(END_TXN, version, { transactionalId: id, producerId: pid, producerEpoch: epoch, committed })
    .then((r: Msg) => r.errorCode as number);
const readCommitted = (c: RawClient, topic: string, offset = 0) =>
  fetch(c, topic, 0, offset, { isolationLevel: 1 }).then(part);

/** Offsets of the batches in a Fetch answer's records. */
function batchOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 0; pos + 61 <= buf.length; pos += buf.readInt32BE(pos + 8) + 12)
    out.push(Number(buf.readBigInt64BE(pos)));
  return out;
}

async function connect(t: TestContext, port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  defer(t, () => c.close());
  return c;
}

test('FindCoordinator key type 1 names this broker as transaction coordinator', async (t) => {
  const broker = await testBroker(t);
  const c = await connect(t, broker.port);
  const v3 = await c.send(FIND_COORDINATOR, 3, { key: 'tx', keyType: 1 });
  assert.deepEqual([v3.errorCode, v3.port], [0, broker.port]);
  const v4 = await c.send(FIND_COORDINATOR, 4, { keyType: 1, coordinatorKeys: ['a', 'b'] });
  assert.deepEqual(
    v4.coordinators.map((x: Msg) => [x.key, x.errorCode]),
    [
      ['a', 0],
      ['b', 0],
    ],
  );
  assert.equal((await c.send(FIND_COORDINATOR, 3, { key: 'x', keyType: 7 })).errorCode, 42);
});

test('commit and abort: markers, last stable offset, aborted transactions, fencing and forged requests', async (t) => {
  const broker = await testBroker(t);
  const c = await connect(t, broker.port);
  assert.equal((await init(c, 'w', 0)).errorCode, 50, 'a zero timeout is INVALID_TRANSACTION_TIMEOUT');
  assert.equal((await init(c, 'w', 3_600_000)).errorCode, 50, 'over 15 min too');
  const first = await init(c, 'w');
  assert.deepEqual([first.errorCode, first.producerEpoch], [0, 0]);
  const again = await init(c, 'w');
  const pid = again.producerId as number;
  assert.deepEqual([pid, again.producerEpoch], [first.producerId, 1], 're-init bumps the epoch');
  await produce(c, 'tx', 0, encodeRecordBatch(records(2), 0)); // offsets 0-1, plain
  // Forged and out-of-order requests: protocol errors, never a crash.
  assert.equal(
    part(await txnProduce(c, 'w', 'tx', txnBatch(pid, 1, 0, 3))).errorCode,
    48,
    'partition not added',
  );
  assert.equal(
    part(await txnProduce(c, null, 'tx', txnBatch(pid, 1, 0, 3))).errorCode,
    48,
    'no transactional id',
  );
  assert.equal(part(await txnProduce(c, 'w', 'tx', encodeRecordBatch(records(1), 0))).errorCode, 48);
  assert.equal(await addPartitions(c, 'w', pid, 0, 'tx'), 90, 'old epoch: PRODUCER_FENCED (v2+)');
  assert.equal(
    await addPartitions(c, 'w', pid, 0, 'tx', 1),
    47,
    'old epoch before v2: INVALID_PRODUCER_EPOCH',
  );
  assert.equal(await addPartitions(c, 'nope', pid, 1, 'tx'), 49, 'unknown transactional id');
  assert.equal(await addPartitions(c, 'w', pid + 1, 1, 'tx'), 49, 'another producer id');
  assert.equal(await endTxn(c, 'w', pid, 1, true), 48, 'EndTxn without a transaction');
  assert.equal(await endTxn(c, 'nope', pid, 1, true), 49);
  const missing = await c.send(ADD_PARTITIONS, 3, {
    transactionalId: 'w',
    producerId: pid,
    producerEpoch: 1,
    topics: [{ name: 'no-such-topic', partitions: [0] }],
  });
  assert.equal(missing.results[0].results[0].partitionErrorCode, 3);

  // An aborted transaction between plain records.
  assert.equal(await addPartitions(c, 'w', pid, 1, 'tx'), 0);
  assert.equal(part(await txnProduce(c, 'w', 'tx', txnBatch(pid, 1, 0, 3))).baseOffset, 2);
  assert.equal(part(await txnProduce(c, 'w', 'tx', txnBatch(pid, 0, 3, 1))).errorCode, 47, 'fenced epoch');
  await produce(c, 'tx', 0, encodeRecordBatch(records(1, 10), 0)); // offset 5, plain
  let rc = await readCommitted(c, 'tx');
  assert.deepEqual([rc.highWatermark, rc.lastStableOffset], [6, 2], 'open transaction holds the LSO');
  assert.deepEqual(batchOffsets(rc.records), [0], 'read_committed stops before it');
  assert.deepEqual(
    batchOffsets(part(await fetch(c, 'tx', 0, 0)).records),
    [0, 2, 5],
    'read_uncommitted: all',
  );
  assert.equal(rc.abortedTransactions.length, 0);
  const latest = await c.send(LIST_OFFSETS, 6, {
    replicaId: -1,
    isolationLevel: 1,
    topics: [{ name: 'tx', partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
  });
  assert.equal(latest.topics[0].partitions[0].offset, 2, 'ListOffsets latest, read_committed: the LSO');
  assert.equal(await endTxn(c, 'w', pid, 1, false), 0);
  const batches = broker.log.partition('tx', 0).readBatches(6);
  assert.equal(batches.readInt16BE(21), 0x30, 'an abort marker: transactional + control');
  assert.equal(Number(batches.readBigInt64BE(43)), pid);
  rc = await readCommitted(c, 'tx');
  assert.deepEqual([rc.highWatermark, rc.lastStableOffset], [7, 7]);
  assert.deepEqual(batchOffsets(rc.records), [0, 2, 5, 6]);
  assert.deepEqual(rc.abortedTransactions, [{ producerId: pid, firstOffset: 2 }]);
  assert.deepEqual((await readCommitted(c, 'tx', 6)).abortedTransactions, [
    { producerId: pid, firstOffset: 2 },
  ]);
  assert.equal(broker.log.partition('tx', 0).read(0).records.length, 6, 'log readers skip the marker');
  assert.equal(await endTxn(c, 'w', pid, 1, false), 0, 'a retried abort succeeds');
  assert.equal(await endTxn(c, 'w', pid, 1, true), 48, 'a commit after it does not');

  // A committed transaction with offsets: visible to the group only at commit.
  assert.equal(await addPartitions(c, 'w', pid, 1, 'tx'), 0);
  assert.equal(part(await txnProduce(c, 'w', 'tx', txnBatch(pid, 1, 3, 2))).baseOffset, 7);
  const commitOffsets = (generationId = -1) =>
    c.send(TXN_OFFSET_COMMIT, 3, {
      transactionalId: 'w',
      groupId: 'g',
      producerId: pid,
      producerEpoch: 1,
      generationId,
      memberId: generationId < 0 ? '' : 'm',
      groupInstanceId: null,
      topics: [
        { name: 'tx', partitions: [{ partitionIndex: 0, committedOffset: 42, committedMetadata: null }] },
      ],
    });
  assert.equal((await commitOffsets()).topics[0].partitions[0].errorCode, 48, 'before AddOffsetsToTxn');
  const addOffsets = await c.send(ADD_OFFSETS, 3, {
    transactionalId: 'w',
    producerId: pid,
    producerEpoch: 1,
    groupId: 'g',
  });
  assert.equal(addOffsets.errorCode, 0);
  assert.equal(
    (await commitOffsets(5)).topics[0].partitions[0].errorCode,
    25,
    'not a member of generation 5',
  );
  assert.equal((await commitOffsets()).topics[0].partitions[0].errorCode, 0);
  assert.equal(broker.log.offsets.committed('g', 'tx', 0), undefined, 'not visible before the commit');
  assert.equal(await endTxn(c, 'w', pid, 1, true), 0);
  assert.equal(broker.log.offsets.committed('g', 'tx', 0), 42, 'visible at commit');
  rc = await readCommitted(c, 'tx', 7);
  assert.deepEqual(batchOffsets(rc.records), [7, 9]);
  assert.equal(rc.lastStableOffset, 10);
  // The marker's one record: length, attributes, timestamp delta, offset delta and key length take
  // a byte each, then its key: version int16, type int16 (1 = COMMIT).
  const commitMarker = broker.log.partition('tx', 0).readBatches(9);
  assert.equal(commitMarker.readInt16BE(61 + 5 + 2), 1, 'a COMMIT marker');

  // A new instance fences the old one and aborts what it left open.
  assert.equal(await addPartitions(c, 'w', pid, 1, 'tx'), 0);
  assert.equal(part(await txnProduce(c, 'w', 'tx', txnBatch(pid, 1, 5, 1))).errorCode, 0);
  const fenced = await init(c, 'w');
  assert.equal(fenced.producerEpoch, 2);
  assert.equal(await endTxn(c, 'w', pid, 1, true), 90, 'the zombie cannot commit');
  rc = await readCommitted(c, 'tx', 10);
  assert.deepEqual(rc.abortedTransactions, [{ producerId: pid, firstOffset: 10 }]);
  assert.equal(rc.lastStableOffset, rc.highWatermark);
  const kip360 = await init(c, 'w', 60_000, 4, pid, 1);
  assert.equal(kip360.errorCode, 90, 'an old epoch presented to InitProducerId v4 is fenced');
  assert.equal((await init(c, 'w', 60_000, 3, pid, 1)).errorCode, 47, 'before v4: INVALID_PRODUCER_EPOCH');
});

test('a transaction past its timeout is aborted and its producer fenced', async (t) => {
  const broker = await testBroker(t);
  const c = await connect(t, broker.port);
  broker.log.createTopic('slow', { partitions: 1 });
  const { producerId: pid } = await init(c, 'slow', 300);
  assert.equal(await addPartitions(c, 'slow', pid, 0, 'slow'), 0);
  assert.equal(part(await txnProduce(c, 'slow', 'slow', txnBatch(pid, 0, 0, 2))).errorCode, 0);
  assert.equal((await readCommitted(c, 'slow')).lastStableOffset, 0);
  await eventually('the timed-out transaction aborted', async () => {
    const rc = await readCommitted(c, 'slow');
    return rc.lastStableOffset === 3 && rc.abortedTransactions.length === 1;
  });
  assert.equal(await endTxn(c, 'slow', pid, 0, true), 90);
  assert.match(broker.warnings.join('\n'), /timed out after 300 ms: aborted/);
  // A read_committed long poll waiting at the LSO is answered by the markers.
  const { producerId: p2, producerEpoch: e2 } = await init(c, 'poll');
  assert.equal(await addPartitions(c, 'poll', p2, e2, 'slow'), 0);
  assert.equal(part(await txnProduce(c, 'poll', 'slow', txnBatch(p2, e2, 0, 1))).errorCode, 0);
  const waiting = fetch(c, 'slow', 0, 3, { isolationLevel: 1, maxWaitMs: 10_000 });
  const c2 = await connect(t, broker.port);
  const started = Date.now();
  assert.equal(await endTxn(c2, 'poll', p2, e2, true), 0);
  assert.deepEqual(batchOffsets(part(await waiting).records), [3, 4]);
  assert.ok(Date.now() - started < 5_000, 'answered at the commit, not at max_wait_ms');
});

test('coordinator state survives a restart; a decided transaction is finished at start; damage is refused', async (t) => {
  const dir = tempDir(t);
  const start = () => startBroker({ port: 0, dataDir: dir, fsync: 'never', onWarning: () => {} });
  let broker = await start();
  let c = await RawClient.connect(broker.port);
  broker.log.createTopic('rs', { partitions: 1 });
  const { producerId: pid } = await init(c, 'r');
  assert.equal(await addPartitions(c, 'r', pid, 0, 'rs'), 0);
  assert.equal(part(await txnProduce(c, 'r', 'rs', txnBatch(pid, 0, 0, 2))).errorCode, 0);
  await c.send(ADD_OFFSETS, 0, { transactionalId: 'r', producerId: pid, producerEpoch: 0, groupId: 'rg' });
  await c.send(TXN_OFFSET_COMMIT, 0, {
    transactionalId: 'r',
    groupId: 'rg',
    producerId: pid,
    producerEpoch: 0,
    topics: [
      { name: 'rs', partitions: [{ partitionIndex: 0, committedOffset: 7, committedMetadata: null }] },
    ],
  });
  c.close();
  await broker.close();
  broker = await start();
  c = await RawClient.connect(broker.port);
  assert.equal((await readCommitted(c, 'rs')).lastStableOffset, 0, 'still open after the restart');
  assert.equal(await endTxn(c, 'r', pid, 0, true), 0, 'and the producer commits it');
  assert.equal(broker.log.offsets.committed('rg', 'rs', 0), 7, 'with the offsets it sent before');
  assert.equal((await readCommitted(c, 'rs')).lastStableOffset, 3);
  c.close();
  await broker.close();

  // Decided (PrepareAbort) before a crash, markers not written: written at start.
  writeTxnState(dir, {
    txns: [
      {
        transactionalId: 'r',
        producerId: pid,
        producerEpoch: 0,
        timeoutMs: 60_000,
        status: 'PrepareAbort',
        startedAt: Date.now(),
        partitions: [{ topic: 'rs', partition: 0, firstOffset: 3 }],
        groups: [],
        offsets: [],
        lastEnd: null,
      },
    ],
    aborted: [],
  });
  broker = await start();
  c = await RawClient.connect(broker.port);
  const rc = await readCommitted(c, 'rs');
  assert.deepEqual([rc.highWatermark, rc.lastStableOffset], [4, 4]);
  assert.deepEqual(rc.abortedTransactions, [{ producerId: pid, firstOffset: 3 }]);
  c.close();
  await broker.close();
  writeFileSync(join(dir, 'txn-state.json'), '00000000 {"txns":[],"aborted":[]}\n');
  await assert.rejects(start(), /txn-state\.json is damaged \(its CRC does not match\)/);
});

test('Fetch and Produce stay correct for plain producers when no transaction exists', async (t) => {
  const broker = await testBroker(t);
  const c = await connect(t, broker.port);
  await produce(c, 'plain', 0, encodeRecordBatch(records(3), 0));
  const rc = await readCommitted(c, 'plain');
  assert.deepEqual([rc.lastStableOffset, rc.abortedTransactions, batchOffsets(rc.records)], [3, [], [0]]);
  const ru = part(await c.send(FETCH, 4, { ...fetchBody('plain'), isolationLevel: 0 }));
  assert.deepEqual([ru.lastStableOffset, ru.abortedTransactions], [3, null]);
});

function fetchBody(topic: string): Msg {
  return {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
  };
}
