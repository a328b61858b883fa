// Idempotent producers across a broker kill -9: confluent-kafka (librdkafka) and KafkaJS
// produce continuously with idempotence on, `sluice broker` is killed with SIGKILL and started
// again on the same data directory and port, and the producers carry on: no fatal error, every
// acknowledged record stored, none stored twice (a batch written just before the crash and
// retried after it is answered with its original offset). Records are read back with the other
// client.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { needService } from '../helpers/services.js';
import { spawnBroker, type BrokerProcess } from './broker-process.js';
import { defer, eventually, tempDir } from './helpers.js';
import { PYTHON, pythonHas, run } from './processes.js';
import { recordCells } from './interop-results.js';

const here = new URL('./clients/', import.meta.url).pathname;
const noConfluent = await needService('python3 with confluent_kafka', () => pythonHas('confluent_kafka'));

/** Records acknowledged before the kill: enough that batches are in flight when it comes. */
const ACKED_BEFORE_KILL = 400;

/** Kills the broker with SIGKILL and starts it again on the same data directory and port. */
async function killAndRestart(
  t: TestContext,
  broker: BrokerProcess,
  dataDir: string,
): Promise<BrokerProcess> {
  broker.child.kill('SIGKILL');
  await broker.exited;
  const again = await spawnBroker(dataDir, broker.port);
  defer(t, () => again.child.kill('SIGKILL'));
  return again;
}

/** Lost (acknowledged, not stored) and duplicated (stored more than once) values. */
function lostAndDuplicated(
  acked: Iterable<string>,
  stored: string[],
): { lost: string[]; duplicated: string[] } {
  const counts = new Map<string, number>();
  for (const v of stored) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    lost: [...acked].filter((v) => !counts.has(v)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([v]) => v),
  };
}

/** Every value of `topic`, read with a KafkaJS consumer from the beginning. */
async function readWithKafkaJs(port: number, topic: string, expected: number): Promise<string[]> {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `check-${topic}` });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) values.push(m.value!.toString());
      },
    });
    // Waits a little past the expected count too, so extra (duplicated) records show up.
    await eventually(`${expected} records read back`, () => values.length >= expected, 60_000);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return values;
}

test(
  'confluent-kafka idempotent producer carries on across a broker kill -9: nothing lost, nothing twice',
  { skip: noConfluent, timeout: 240_000 },
  async (t) => {
    const dataDir = tempDir(t);
    let broker = await spawnBroker(dataDir);
    defer(t, () => broker.child.kill('SIGKILL'));
    const count = 2000;
    const producer = spawn(
      PYTHON,
      [`${here}idempotent_producer.py`, `127.0.0.1:${broker.port}`, 'idem-rdkafka', String(count), 'c'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    defer(t, () => producer.kill('SIGKILL'));
    const acked = new Set<string>();
    const problems: string[] = [];
    let finished = false;
    createInterface({ input: producer.stdout! }).on('line', (line) => {
      if (line.startsWith('ack ')) acked.add(line.slice(4));
      else if (line.startsWith('done')) finished = line === 'done 0';
      // Lost connections are expected while the broker is down; anything else is a failure.
      else if (!/_TRANSPORT|_ALL_BROKERS_DOWN|Connection refused|Disconnected/.test(line))
        problems.push(line);
    });
    const exited = new Promise<number | null>((r) => producer.on('exit', (code) => r(code)));
    await eventually('records acknowledged before the kill', () => acked.size >= ACKED_BEFORE_KILL, 90_000);
    broker = await killAndRestart(t, broker, dataDir);
    assert.equal(await exited, 0, `producer exit; its reports: ${problems.join('\n')}`);
    assert.deepEqual(problems, [], 'no fatal or delivery error');
    assert.ok(finished, 'every record was delivered by the final flush');
    assert.equal(acked.size, count);
    const stored = await readWithKafkaJs(broker.port, 'idem-rdkafka', count);
    const { lost, duplicated } = lostAndDuplicated(acked, stored);
    console.log(
      `confluent-kafka across kill -9: ${acked.size} acknowledged, ${lost.length} lost, ${duplicated.length} duplicated`,
    );
    assert.deepEqual(lost, [], 'no acknowledged record lost');
    assert.deepEqual(duplicated, [], 'no record stored twice');
    recordCells('test/broker/idempotent-restart.test.ts', [
      {
        client: 'confluent-kafka',
        feature: 'idempotent-kill',
        status: 'pass',
        detail: `${acked.size} acknowledged, 0 lost, 0 duplicated`,
      },
    ]);
  },
);

test(
  'KafkaJS idempotent producer carries on across a broker kill -9: nothing lost, nothing twice',
  { skip: noConfluent, timeout: 240_000 },
  async (t) => {
    const dataDir = tempDir(t);
    let broker = await spawnBroker(dataDir);
    defer(t, () => broker.child.kill('SIGKILL'));
    const topic = 'idem-kafkajs';
    const kafka = new Kafka({
      clientId: 'idempotent-restart',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 60 },
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    defer(t, () => producer.disconnect());
    const acked: string[] = [];
    let killed: Promise<void> | undefined;
    const batches = 150;
    for (let b = 0; b < batches; b++) {
      const messages = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 5}`, value: `j-${b}-${i}` }));
      // Sent while the kill happens: the send rides out the restart through the client's retries.
      if (acked.length >= ACKED_BEFORE_KILL && killed === undefined)
        killed = killAndRestart(t, broker, dataDir).then((again) => {
          broker = again;
        });
      await producer.send({ topic, acks: -1, messages });
      acked.push(...messages.map((m) => m.value));
    }
    await killed;
    assert.ok(killed !== undefined, 'the broker was killed while the producer ran');
    assert.equal(acked.length, batches * 20);
    const read = await run(
      PYTHON,
      [`${here}consume_confluent.py`, `127.0.0.1:${broker.port}`, topic, String(acked.length), 'check'],
      { timeoutMs: 120_000 },
    );
    const stored = read.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ')[2]);
    const { lost, duplicated } = lostAndDuplicated(acked, stored);
    console.log(
      `KafkaJS across kill -9: ${acked.length} acknowledged, ${lost.length} lost, ${duplicated.length} duplicated`,
    );
    assert.deepEqual(lost, [], 'no acknowledged record lost');
    assert.deepEqual(duplicated, [], 'no record stored twice');
    recordCells('test/broker/idempotent-restart.test.ts', [
      {
        client: 'KafkaJS',
        feature: 'idempotent-kill',
        status: 'pass',
        detail: `${acked.length} acknowledged, 0 lost, 0 duplicated`,
      },
    ]);
  },
);
