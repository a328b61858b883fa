// Compressed topics end to end: independent producers (kcat on librdkafka: gzip, snappy, lz4,
// zstd; kafka-python: gzip, xerial-framed snappy, lz4) write through the broker, the STORED
// batches are checked to really be compressed with that codec (librdkafka sends plain batches
// when ApiVersions lacks Produce v0-2), and logSource, kafkaSource and another client read every
// record back. A batch that does not decode stops logSource with an error naming codec,
// partition and offset, and the broker keeps serving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaActionSink } from '../../src/actions/index.js';
import { kafkaDeadLetters, kafkaSource, logSource } from '../../src/connectors/index.js';
import { crc32c } from '../../src/core/crc32c.js';
import { encodeRecordBatch } from '../../src/log/index.js';
import { pipeline, type Envelope, type Source } from '../../src/stream/index.js';
import { commandExists, needService } from '../helpers/services.js';
import { RawClient, defer, testBroker } from './helpers.js';
import { CODEC_ID, storedBatches } from './log-contents.js';
import { PYTHON, pythonHas, run } from './processes.js';
import { produce } from './wire.js';

const here = new URL('./clients/', import.meta.url).pathname;
const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const noKafkaPython = await needService(
  'python3 with kafka-python, snappy and lz4',
  async () => (await pythonHas('kafka')) && (await pythonHas('snappy')) && (await pythonHas('lz4')),
);
const XERIAL = '82534e4150505900';

async function values(source: Source<Buffer | null>): Promise<string[]> {
  const got: string[] = [];
  const r = pipeline('read')
    .from(source)
    .to({
      name: 'capture',
      write: (rs: Envelope<Buffer | null>[]) => void got.push(...rs.map((x) => x.value!.toString())),
    })
    .run({ checkpointIntervalMs: 100 });
  await r.done;
  return got.sort();
}

async function readBackEverywhere(
  broker: Awaited<ReturnType<typeof testBroker>>,
  topic: string,
  expected: string[],
  who: string,
): Promise<void> {
  const want = [...expected].sort();
  assert.deepEqual(
    await values(logSource({ log: broker.log, topic, endWhen: 'caught-up' })),
    want,
    `${who}: logSource`,
  );
  const viaKafka = await values(
    kafkaSource({ brokers: broker.address, topic, groupId: `g-${topic}`, endWhen: 'caught-up' }),
  );
  assert.deepEqual(viaKafka, want, `${who}: kafkaSource`);
}

test(
  'kcat compresses with gzip, snappy, lz4 and zstd; the stored batches are compressed; logSource, kafkaSource and kafka-python read them',
  { skip: noKcat, timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const topic = `kcat-${codec}`;
      const lines = Array.from({ length: 300 }, (_, i) => `${codec}-${i}`);
      const p = await run(
        'kcat',
        ['-P', '-b', broker.address, '-t', topic, '-z', codec, '-X', 'linger.ms=50'],
        {
          input: lines.join('\n') + '\n',
          timeoutMs: 60_000,
        },
      );
      assert.equal(p.code, 0, p.stderr);
      const stored = storedBatches(broker.log, topic);
      assert.ok(stored.length > 0);
      // librdkafka sends a batch plain when compressing does not make it smaller (a small tail
      // batch, as linger.ms cuts it on a busy machine): every batch is the codec or plain, and
      // nearly every record went compressed.
      const plain = stored.filter((b) => b.codec === 0).reduce((n, b) => n + b.records, 0);
      assert.deepEqual(
        [...new Set(stored.map((b) => b.codec).filter((c) => c !== 0))],
        [CODEC_ID[codec]],
        `kcat ${codec}: stored batches are ${codec}`,
      );
      assert.ok(
        plain <= lines.length / 10,
        `kcat ${codec}: ${plain} of ${lines.length} records stored plain`,
      );
      await readBackEverywhere(broker, topic, lines, `kcat ${codec}`);
      if (!noKafkaPython) {
        const py = await run(PYTHON, [`${here}consume_kafka_python.py`, broker.address, topic, '300'], {
          timeoutMs: 60_000,
        });
        assert.equal(py.stdout.trim().split('\n').length, 300, `${codec} via kafka-python: ${py.stderr}`);
      }
    }
  },
);

test(
  'kafka-python compresses with gzip, xerial snappy and lz4; logSource, kafkaSource and kcat read them',
  { skip: noKafkaPython, timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t);
    for (const codec of ['gzip', 'snappy', 'lz4']) {
      const topic = `py-${codec}`;
      const py = await run(
        PYTHON,
        [`${here}produce_compressed.py`, broker.address, topic, '300', codec, codec],
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(py.stdout.trim(), '300', py.stderr);
      const stored = storedBatches(broker.log, topic);
      assert.deepEqual([...new Set(stored.map((b) => b.codec))], [CODEC_ID[codec]], `kafka-python ${codec}`);
      if (codec === 'snappy')
        assert.ok(
          stored.every((b) => b.head === XERIAL),
          'kafka-python frames snappy the xerial way',
        );
      const lines = Array.from({ length: 300 }, (_, i) => `${codec}-${i}`);
      await readBackEverywhere(broker, topic, lines, `kafka-python ${codec}`);
      if (!noKcat) {
        const r = await run('kcat', ['-C', '-b', broker.address, '-t', topic, '-e', '-q', '-f', '%s\\n'], {
          timeoutMs: 60_000,
        });
        assert.deepEqual(r.stdout.trim().split('\n').sort(), [...lines].sort(), `${codec} via kcat`);
      }
    }
  },
);

test(
  'a malformed compressed batch stops logSource and kafkaSource with a clear error; the broker keeps serving',
  { timeout: 60_000 },
  async (t) => {
    const broker = await testBroker(t);
    broker.log.createTopic('bad', { partitions: 1 });
    const c = await RawClient.connect(broker.port);
    defer(t, () => c.close());
    // A producer's batch that says zstd but holds garbage, with a correct CRC: the broker stores it
    // (it never decompresses on produce), readers must fail cleanly.
    const good = encodeRecordBatch([{ value: Buffer.from('ok') }], 0);
    const bad = Buffer.concat([good.subarray(0, 61), Buffer.from('definitely not zstd')]);
    bad.writeInt32BE(bad.length - 12, 8);
    bad.writeInt16BE(4, 21);
    bad.writeUInt32BE(crc32c(bad, 21, bad.length), 17);
    assert.equal((await produce(c, 'bad', 0, good)).responses[0].partitionResponses[0].errorCode, 0);
    assert.equal((await produce(c, 'bad', 0, bad)).responses[0].partitionResponses[0].errorCode, 0);
    const run1 = pipeline('read-bad')
      .from(logSource({ log: broker.log, topic: 'bad', endWhen: 'caught-up' }))
      .to({ name: 'drop', write: () => {} })
      .run({});
    await assert.rejects(run1.done, /partition bad-0: RecordBatch at offset 1 is compressed with zstd/);
    const run2 = pipeline('read-bad-kafka')
      .from(
        kafkaSource({ brokers: broker.address, topic: 'bad', groupId: 'bad-readers', endWhen: 'caught-up' }),
      )
      .to({ name: 'drop', write: () => {} })
      .run({});
    await assert.rejects(run2.done, /fetching bad\/0 at offset \d+: .*compressed with zstd/);
    // Still serving on the same connection.
    assert.equal((await produce(c, 'bad', 0, good)).responses[0].partitionResponses[0].errorCode, 0);
  },
);

test(
  'kafkaActionSink and kafkaDeadLetters write batches compressed with their compression option',
  { timeout: 60_000 },
  async (t) => {
    const broker = await testBroker(t);
    const sink = kafkaActionSink({ brokers: broker.address, topic: 'alerts', compression: 'lz4' });
    await sink.open!({ pipeline: 'p' });
    defer(t, () => void sink.close?.());
    const entries = Array.from({ length: 20 }, (_, i) => ({
      key: `p/a/t-0@${i}`,
      action: 'a',
      payload: { i, note: 'repeated words repeated words repeated words' },
      time: 0,
      eventTime: i,
      recordKey: undefined,
    }));
    assert.equal((await sink.deliver(entries)).done, 20);
    const alerts = storedBatches(broker.log, 'alerts');
    assert.ok(alerts.length > 0 && alerts.every((b) => b.codec === 3), 'kafkaActionSink: lz4');

    const { loadKafkaClient } = await import('../../src/kafka-client/index.js');
    const { Producer } = await loadKafkaClient();
    const producer = new Producer({
      clientId: 'dlq-test',
      bootstrapBrokers: [broker.address],
      autocreateTopics: true,
    });
    defer(t, () => void producer.close());
    const dlq = kafkaDeadLetters(producer, 'dead', { compression: 'gzip' });
    await dlq.write([
      {
        stage: 'decode',
        reason: 'bad',
        original: 'x'.repeat(500),
        topic: 'in',
        partition: 0,
        offset: 1,
        time: 1,
      },
    ]);
    assert.deepEqual(
      storedBatches(broker.log, 'dead').map((b) => b.codec),
      [1],
      'kafkaDeadLetters: gzip',
    );
    assert.deepEqual(await values(logSource({ log: broker.log, topic: 'dead', endWhen: 'caught-up' })), [
      'x'.repeat(500),
    ]);
  },
);
