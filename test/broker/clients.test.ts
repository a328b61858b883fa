// Real Kafka clients against the broker: kcat (librdkafka 2.x) produces 100,000 records to a
// 3-partition topic, then kcat, kafka-python, confluent_kafka and @platformatic/kafka each
// read them all back, in the order the log holds them per partition. And each client's
// producer (idempotent where it can be) writes records that kcat reads back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Consumer, Producer } from '@platformatic/kafka';
import type { RunningBroker } from '../../src/broker/index.js';
import { commandExists, needService } from '../helpers/services.js';
import { testBroker } from './helpers.js';
import { PYTHON, pythonHas, run } from './processes.js';

const N = 100_000;
const TOPIC = 'interop';
const here = new URL('./clients/', import.meta.url).pathname;

const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const noKafkaPython = await needService('python3 with kafka-python', () => pythonHas('kafka'));
const noConfluent = await needService('python3 with confluent_kafka', () => pythonHas('confluent_kafka'));

/** What the log holds: values per partition, in offset order. */
function truth(broker: RunningBroker, topic: string): string[][] {
  const out: string[][] = [];
  for (let p = 0; p < broker.log.partitionCount(topic); p++) {
    const part = broker.log.partition(topic, p);
    const values: string[] = [];
    let next = 0;
    while (next < part.highWatermark) {
      const r = part.read(next, 1 << 20);
      for (const rec of r.records) values.push(rec.value!.toString());
      next = r.nextOffset;
    }
    out.push(values);
  }
  return out;
}

/** Checks "partition offset value" lines against the log: every record once, offsets dense, order kept. */
function assertSameAsLog(lines: [number, number, string][], expected: string[][], who: string): void {
  const got: string[][] = expected.map(() => []);
  for (const [p, offset, value] of lines) {
    assert.equal(offset, got[p].length, `${who}: partition ${p} offsets are dense and in order`);
    got[p].push(value);
  }
  for (let p = 0; p < expected.length; p++) {
    assert.equal(got[p].length, expected[p].length, `${who}: partition ${p} record count`);
    assert.deepEqual(got[p], expected[p], `${who}: partition ${p} contents in order`);
  }
}

function parseLines(stdout: string): [number, number, string][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [p, o, ...v] = l.split(' ');
      return [Number(p), Number(o), v.join(' ')];
    });
}

async function platformaticRead(
  address: string,
  topic: string,
  count: number,
): Promise<[number, number, string][]> {
  const consumer = new Consumer({
    clientId: 'sluice-test',
    groupId: `plat-${Date.now()}`,
    bootstrapBrokers: [address],
    maxWaitTime: 500,
  });
  const lines: [number, number, string][] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const deadline = setTimeout(() => void stream.close(), 90_000);
    for await (const m of stream) {
      lines.push([m.partition, Number(m.offset), m.value.toString()]);
      if (lines.length >= count) break;
    }
    clearTimeout(deadline);
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  lines.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // interleaving across partitions is free
  return lines;
}

test(
  `kcat produces ${N} records; kcat, kafka-python, confluent_kafka and @platformatic/kafka read them all in order`,
  { skip: noKcat, concurrency: 4, timeout: 240_000 },
  async (t) => {
    const broker = await testBroker(t, { partitions: 3 });
    const input = Array.from({ length: N }, (_, i) => `k${i % 1000}:v-${i}`).join('\n') + '\n';
    const produced = await run(
      'kcat',
      ['-P', '-b', broker.address, '-t', TOPIC, '-K:', '-X', 'linger.ms=20'],
      { input, timeoutMs: 120_000 },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const expected = truth(broker, TOPIC);
    assert.equal(expected.length, 3, 'auto-created with the configured 3 partitions');
    assert.equal(expected.flat().length, N, 'every record acknowledged to kcat is in the log');
    assert.ok(
      expected.every((p) => p.length > 0),
      'keys spread over all partitions',
    );
    for (const values of expected) {
      // Records of one partition keep kcat's sending order.
      const idx = values.map((v) => Number(v.slice(2)));
      assert.ok(idx.every((x, i) => i === 0 || x > idx[i - 1]));
    }

    await Promise.all([
      t.test('kcat -C', async () => {
        const r = await run(
          'kcat',
          ['-C', '-b', broker.address, '-t', TOPIC, '-e', '-q', '-f', '%p %o %s\\n'],
          { timeoutMs: 120_000 },
        );
        assert.equal(r.code, 0, r.stderr);
        assertSameAsLog(
          parseLines(r.stdout).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
          expected,
          'kcat',
        );
      }),
      t.test('kafka-python', { skip: noKafkaPython }, async () => {
        const r = await run(PYTHON, [`${here}consume_kafka_python.py`, broker.address, TOPIC, String(N)], {
          timeoutMs: 150_000,
        });
        assert.equal(r.code, 0, r.stderr);
        assertSameAsLog(
          parseLines(r.stdout).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
          expected,
          'kafka-python',
        );
      }),
      t.test('confluent_kafka', { skip: noConfluent }, async () => {
        const r = await run(
          PYTHON,
          [`${here}consume_confluent.py`, broker.address, TOPIC, String(N), 'confluent-readers'],
          { timeoutMs: 150_000 },
        );
        assert.equal(r.code, 0, r.stderr);
        assertSameAsLog(
          parseLines(r.stdout).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
          expected,
          'confluent_kafka',
        );
      }),
      t.test('@platformatic/kafka', async () => {
        assertSameAsLog(await platformaticRead(broker.address, TOPIC, N), expected, '@platformatic/kafka');
      }),
    ]);
  },
);

test(
  'kafka-python, confluent_kafka (idempotent) and @platformatic/kafka (idempotent) produce; kcat reads back',
  { skip: noKcat, timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t, { partitions: 2 });
    const count = 300;
    const jobs: Promise<unknown>[] = [];
    if (!noKafkaPython) {
      jobs.push(
        run(PYTHON, [
          `${here}produce_python.py`,
          'kafka-python',
          broker.address,
          'mixed',
          String(count),
          'kp',
        ]).then((r) => assert.equal(r.stdout.trim(), String(count), r.stderr)),
      );
    }
    if (!noConfluent) {
      jobs.push(
        run(PYTHON, [
          `${here}produce_python.py`,
          'confluent',
          broker.address,
          'mixed',
          String(count),
          'ck',
        ]).then((r) => assert.equal(r.stdout.trim(), String(count), r.stderr)),
      );
    }
    jobs.push(
      (async () => {
        const producer = new Producer({
          clientId: 'plat-producer',
          bootstrapBrokers: [broker.address],
          idempotent: true,
          acks: -1,
        });
        try {
          for (let i = 0; i < count; i += 50) {
            await producer.send({
              messages: Array.from({ length: 50 }, (_, k) => ({
                topic: 'mixed',
                key: Buffer.from(`k${(i + k) % 7}`),
                value: Buffer.from(`pl-${i + k}`),
              })),
            });
          }
        } finally {
          await producer.close();
        }
      })(),
    );
    await Promise.all(jobs);
    const r = await run(
      'kcat',
      ['-C', '-b', broker.address, '-t', 'mixed', '-e', '-q', '-f', '%p %o %s\\n'],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = parseLines(r.stdout);
    const prefixes = ['pl', ...(noKafkaPython ? [] : ['kp']), ...(noConfluent ? [] : ['ck'])];
    assert.equal(lines.length, prefixes.length * count);
    for (const prefix of prefixes) {
      const mine = lines.filter((l) => l[2].startsWith(`${prefix}-`));
      assert.equal(new Set(mine.map((l) => l[2])).size, count, `${prefix}: every record exactly once`);
      for (const p of [0, 1]) {
        const idx = mine
          .filter((l) => l[0] === p)
          .sort((a, b) => a[1] - b[1])
          .map((l) => Number(l[2].split('-')[1]));
        assert.ok(
          idx.every((x, i) => i === 0 || x > idx[i - 1]),
          `${prefix}: partition ${p} keeps the send order`,
        );
      }
    }
  },
);

test(
  'compressed batches (gzip, snappy, lz4, zstd) are stored as sent and read back by kcat and kafka-python',
  { skip: noKcat, timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const input = Array.from({ length: 500 }, (_, i) => `${codec}-${i}`).join('\n') + '\n';
      const p = await run('kcat', ['-P', '-b', broker.address, '-t', `z-${codec}`, '-z', codec], {
        input,
        timeoutMs: 60_000,
      });
      assert.equal(p.code, 0, p.stderr);
      const r = await run(
        'kcat',
        ['-C', '-b', broker.address, '-t', `z-${codec}`, '-e', '-q', '-f', '%p %o %s\\n'],
        { timeoutMs: 60_000 },
      );
      assert.deepEqual(
        parseLines(r.stdout).map((l) => l[2]),
        input.trim().split('\n'),
        `${codec} via kcat`,
      );
      if (!noKafkaPython && codec !== 'zstd') {
        // kafka-python decodes zstd only with the zstandard module, which is optional.
        const py = await run(
          PYTHON,
          [`${here}consume_kafka_python.py`, broker.address, `z-${codec}`, '500'],
          { timeoutMs: 60_000 },
        );
        assert.equal(parseLines(py.stdout).length, 500, `${codec} via kafka-python: ${py.stderr}`);
      }
    }
  },
);
