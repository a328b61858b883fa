// Transactions across a broker kill -9: `sluice broker` (a child process) is killed with SIGKILL
// while a transaction is open, and started again on the same data directory and port. The
// producer carries on: its open transaction is still known to the restarted coordinator (and
// committed by it), or the client re-inits with the same transactional.id and redoes the
// transaction. A read_committed reader of another client then sees every committed record
// exactly once and no record of an aborted attempt; a transaction whose producer never comes
// back is aborted at its timeout, so the last stable offset does not stay stuck.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { needService } from '../helpers/services.js';
import { spawnBroker, type BrokerProcess } from './broker-process.js';
import { defer, eventually, tempDir } from './helpers.js';
import { recordCells } from './interop-results.js';
import { PYTHON, pythonHas } from './processes.js';
import { confluentRead, duplicatedAndMissing, kafkajsRead } from './txn-clients.js';

const TEST = 'test/broker/transactions-restart.test.ts';
const script = new URL('./clients/txn_confluent.py', import.meta.url).pathname;
const noConfluent = await needService('python3 with confluent_kafka', () => pythonHas('confluent_kafka'));
const TXNS = 8;
const PER_TXN = 10;
const expected = Array.from(
  { length: TXNS * PER_TXN },
  (_, k) => `t${Math.floor(k / PER_TXN)}-${k % PER_TXN}`,
);

async function killAndRestart(
  t: TestContext,
  broker: BrokerProcess,
  dataDir: string,
): Promise<BrokerProcess> {
  broker.child.kill('SIGKILL');
  await broker.exited;
  const again = await spawnBroker(dataDir, broker.port, 1);
  defer(t, () => again.child.kill('SIGKILL'));
  return again;
}

test(
  'confluent-kafka transactions across a broker kill -9: each committed record once, none of an aborted attempt',
  { skip: noConfluent, timeout: 240_000 },
  async (t) => {
    const dataDir = tempDir(t);
    let broker = await spawnBroker(dataDir, 0, 1);
    defer(t, () => broker.child.kill('SIGKILL'));
    const address = `127.0.0.1:${broker.port}`;
    const child = spawn(PYTHON, [script, 'loop', address, 'txk-confluent', 'confluent-kill', String(TXNS)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    defer(t, () => child.kill('SIGKILL'));
    const steps: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on('line', (l) =>
      steps.push(JSON.parse(l) as Record<string, unknown>),
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Killed while transaction 3's records are written and its commit has not been sent.
    await eventually('transaction 3 open', () => steps.some((s) => s.step === 'open' && s.txn === 3), 90_000);
    broker = await killAndRestart(t, broker, dataDir);
    assert.equal(await exited, 0, JSON.stringify(steps));
    assert.deepEqual(steps.at(-1), { step: 'done', n: TXNS });
    const values = await kafkajsRead(address, 'txk-confluent', expected.length);
    const { duplicated, missing } = duplicatedAndMissing(values, expected);
    const recovery = steps.filter((s) => !['open', 'committed', 'done'].includes(s.step as string));
    const detail = `${TXNS} transactions of ${PER_TXN}, kill -9 inside transaction 3: ${missing.length} lost, ${duplicated.length} duplicated (KafkaJS read_committed); client ${recovery.length === 0 ? 'committed the open transaction after the restart' : `recovered by ${recovery.map((s) => s.step).join(', ')}`}`;
    console.log(`confluent-kafka ${detail}`);
    assert.deepEqual(missing, [], 'no committed record lost');
    assert.deepEqual(duplicated, [], 'no record twice');
    assert.equal(values.length, expected.length);
    recordCells(TEST, [{ client: 'confluent-kafka', feature: 'transactions-kill', status: 'pass', detail }]);
  },
);

test(
  'KafkaJS transactions across a broker kill -9, and an abandoned transaction aborted at its timeout',
  { skip: noConfluent, timeout: 240_000 },
  async (t) => {
    const dataDir = tempDir(t);
    let broker = await spawnBroker(dataDir, 0, 1);
    defer(t, () => broker.child.kill('SIGKILL'));
    const address = `127.0.0.1:${broker.port}`;
    const kafka = new Kafka({
      clientId: 'txn-kill',
      brokers: [address],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 30 },
    });
    const open: Producer[] = [];
    const newProducer = async (transactionalId: string, transactionTimeout = 60_000) => {
      const p = kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout,
      });
      await p.connect();
      open.push(p);
      return p;
    };
    defer(t, () => Promise.allSettled(open.map((p) => p.disconnect())));
    // A producer that leaves a transaction open and never comes back.
    const ghost = await newProducer('ghost', 3_000);
    const ghostTxn = await ghost.transaction();
    await ghostTxn.send({ topic: 'txk-kafkajs', messages: [{ value: 'ghost-0', partition: 0 }] });

    let producer = await newProducer('kafkajs-kill');
    const recovery: string[] = [];
    for (let i = 0; i < TXNS;) {
      try {
        const txn = await producer.transaction();
        const messages = Array.from({ length: PER_TXN }, (_, j) => ({
          key: 'k',
          value: `t${i}-${j}`,
          partition: 0,
        }));
        await txn.send({ topic: 'txk-kafkajs', messages });
        if (i === 3 && !recovery.includes('killed')) {
          broker = await killAndRestart(t, broker, dataDir);
          recovery.push('killed');
        }
        await txn.commit();
        i++;
      } catch (err) {
        // The client gave up: a new instance re-inits (fencing the old, aborting its transaction) and redoes it.
        recovery.push(`re-init after ${(err as Error).message.slice(0, 80)}`);
        producer = await newProducer('kafkajs-kill');
      }
    }
    const values = await confluentRead(address, 'txk-kafkajs', 'read_committed');
    const { duplicated, missing } = duplicatedAndMissing(values, expected);
    const detail = `${TXNS} transactions of ${PER_TXN}, kill -9 inside transaction 3: ${missing.length} lost, ${duplicated.length} duplicated (confluent-kafka read_committed); ${recovery.length > 1 ? recovery.slice(1).join('; ') : 'the open transaction committed after the restart'}; an abandoned transaction aborted at its 3 s timeout`;
    console.log(`KafkaJS ${detail}`);
    assert.deepEqual(missing, [], 'no committed record lost');
    assert.deepEqual(duplicated, [], 'no record twice');
    assert.ok(!values.includes('ghost-0'), 'the abandoned transaction is not visible');
    assert.equal(values.length, expected.length);
    recordCells(TEST, [{ client: 'KafkaJS', feature: 'transactions-kill', status: 'pass', detail }]);
  },
);
