// Transactions (KIP-98) with independent clients, each checked by ANOTHER client: commit and
// abort (a read_committed reader sees the committed records only, a read_uncommitted one all),
// zombie fencing (a second producer with the same transactional.id fences the first, whose
// late commit is refused), and offsets sent with a transaction (consume-transform-produce),
// visible to the group only at commit. Each client's result is a "transactions" cell of the
// interop matrix (interop-results.ts). Broker kill -9 mid-transaction: transactions-restart.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { commandExists, needService } from '../helpers/services.js';
import { testBroker } from './helpers.js';
import { recordCells } from './interop-results.js';
import { pythonHas } from './processes.js';
import { confluentRead, confluentTxn, kafkajsRead, kcatRead, range } from './txn-clients.js';

const TEST = 'test/broker/transactions.test.ts';
const noConfluent = await needService('python3 with confluent_kafka', () => pythonHas('confluent_kafka'));
const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));

test(
  'confluent-kafka: commit, abort, fencing and sendOffsets, read back by KafkaJS and kcat',
  { skip: noConfluent || noKcat, timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t);
    const address = broker.address;
    const steps = await confluentTxn(['commit-abort', address, 'tx-confluent', 'confluent-1']);
    assert.deepEqual(
      steps.map((s) => s.step),
      ['commit', 'abort', 'commit'],
    );
    const committed = [...range('c1-', 5), ...range('c2-', 5)];
    assert.deepEqual(await kafkajsRead(address, 'tx-confluent', 10), committed, 'KafkaJS read_committed');
    const all = await kcatRead(address, 'tx-confluent', 'read_uncommitted');
    assert.deepEqual(
      all,
      [...range('c1-', 5), ...range('a-', 5), ...range('c2-', 5)],
      'kcat read_uncommitted',
    );
    assert.deepEqual(
      await kcatRead(address, 'tx-confluent', 'read_committed'),
      committed,
      'kcat read_committed',
    );

    const fence = await confluentTxn(['fence', address, 'fence-confluent', 'confluent-2']);
    const zombie = fence.find((s) => s.step === 'zombie-commit')!;
    assert.deepEqual(
      [zombie.result, zombie.fatal, zombie.code],
      ['refused', true, '_FENCED'],
      JSON.stringify(zombie),
    );
    assert.deepEqual(
      await kafkajsRead(address, 'fence-confluent', 3),
      range('new-', 3),
      'only the new instance',
    );

    // Consume-transform-produce: inputs by KafkaJS, outputs and input offsets in one transaction each.
    const kafka = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING });
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: 'ctp-in', messages: range('v', 6).map((value) => ({ value, partition: 0 })) });
    await plain.disconnect();
    const ctp = await confluentTxn(['ctp', address, 'ctp-in', 'ctp-out', 'ctp-group', 'confluent-3', '6']);
    assert.equal(ctp.at(-1)!.n, 6);
    assert.deepEqual(await kafkajsRead(address, 'ctp-out', 6), range('V', 6));
    assert.equal(
      broker.log.offsets.committed('ctp-group', 'ctp-in', 0),
      6,
      'input offsets committed with the outputs',
    );
    recordCells(TEST, [
      {
        client: 'confluent-kafka',
        feature: 'transactions',
        status: 'pass',
        detail:
          'commit + abort (KafkaJS and kcat read_committed: committed only; read_uncommitted: all), zombie fenced (_FENCED), send_offsets_to_transaction (consume-transform-produce, offsets at commit)',
      },
    ]);
  },
);

test(
  'KafkaJS: commit, abort, fencing and sendOffsets, read back by confluent-kafka',
  { skip: noConfluent, timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t);
    const address = broker.address;
    const kafka = new Kafka({ clientId: 'txn-kafkajs', brokers: [address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({
      transactionalId: 'kafkajs-1',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    t.after(() => producer.disconnect());
    const sendIn = async (values: string[], end: 'commit' | 'abort') => {
      const txn = await producer.transaction();
      await txn.send({
        topic: 'tx-kafkajs',
        messages: values.map((value) => ({ key: 'k', value, partition: 0 })),
      });
      await txn[end]();
    };
    await sendIn(range('c1-', 5), 'commit');
    await sendIn(range('a-', 5), 'abort');
    await sendIn(range('c2-', 5), 'commit');
    const committed = [...range('c1-', 5), ...range('c2-', 5)];
    assert.deepEqual(await confluentRead(address, 'tx-kafkajs', 'read_committed'), committed);
    assert.deepEqual(await confluentRead(address, 'tx-kafkajs', 'read_uncommitted'), [
      ...range('c1-', 5),
      ...range('a-', 5),
      ...range('c2-', 5),
    ]);

    // A second producer with the same transactional id fences the first.
    const zombieTxn = await producer.transaction();
    await zombieTxn.send({ topic: 'fence-kafkajs', messages: [{ value: 'zombie-0', partition: 0 }] });
    const second = kafka.producer({ transactionalId: 'kafkajs-1', idempotent: true, maxInFlightRequests: 1 });
    await second.connect();
    t.after(() => second.disconnect());
    const fresh = await second.transaction(); // InitProducerId: bumps the epoch, aborts the zombie's transaction
    await assert.rejects(
      zombieTxn
        .send({ topic: 'fence-kafkajs', messages: [{ value: 'zombie-1', partition: 0 }] })
        .then(() => zombieTxn.commit()),
      (err: Error & { type?: string }) =>
        err.type === 'INVALID_PRODUCER_EPOCH' || /epoch|fenced/i.test(err.message),
    );
    await fresh.send({ topic: 'fence-kafkajs', messages: [{ value: 'new-0', partition: 0 }] });
    // Offsets sent with the transaction: committed to the group only with it.
    await fresh.sendOffsets({
      consumerGroupId: 'kafkajs-group',
      topics: [{ topic: 'tx-kafkajs', partitions: [{ partition: 0, offset: '5' }] }],
    });
    assert.equal(
      broker.log.offsets.committed('kafkajs-group', 'tx-kafkajs', 0),
      undefined,
      'not before the commit',
    );
    await fresh.commit();
    assert.equal(broker.log.offsets.committed('kafkajs-group', 'tx-kafkajs', 0), 5, 'at the commit');
    assert.deepEqual(await confluentRead(address, 'fence-kafkajs', 'read_committed'), ['new-0']);
    recordCells(TEST, [
      {
        client: 'KafkaJS',
        feature: 'transactions',
        status: 'pass',
        detail:
          'commit + abort (confluent-kafka read_committed: committed only; read_uncommitted: all), zombie fenced (INVALID_PRODUCER_EPOCH), sendOffsets committed at commit',
      },
    ]);
  },
);

test(
  '@platformatic/kafka: commit and abort, read back by KafkaJS and kcat',
  { skip: noKcat, timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    const producer = new Producer({
      clientId: 'txn-platformatic',
      bootstrapBrokers: [broker.address],
      idempotent: true,
      transactionalId: 'platformatic-1',
      autocreateTopics: true,
    });
    t.after(() => producer.close());
    const sendIn = async (values: string[], end: 'commit' | 'abort') => {
      const txn = await producer.beginTransaction();
      await txn.send({
        messages: values.map((v) => ({
          topic: 'tx-plat',
          partition: 0,
          key: Buffer.from('k'),
          value: Buffer.from(v),
        })),
      });
      await txn[end]();
    };
    await sendIn(range('c1-', 3), 'commit');
    await sendIn(range('a-', 3), 'abort');
    await sendIn(range('c2-', 3), 'commit');
    const committed = [...range('c1-', 3), ...range('c2-', 3)];
    assert.deepEqual(await kafkajsRead(broker.address, 'tx-plat', 6), committed, 'KafkaJS read_committed');
    assert.equal(
      (await kcatRead(broker.address, 'tx-plat', 'read_uncommitted')).length,
      9,
      'kcat read_uncommitted',
    );
    recordCells(TEST, [
      {
        client: '@platformatic/kafka',
        feature: 'transactions',
        status: 'pass',
        detail: 'commit + abort (KafkaJS read_committed: committed only; kcat read_uncommitted: all)',
      },
    ]);
  },
);
