// `sluice demo fraud --from kafka://…` on compressed topics written by independent producers:
// kcat (librdkafka) with zstd and kafka-python with xerial-framed snappy write the same
// transactions; the demo processes every record of each topic. A topic holding a batch that does
// not decode stops the demo with one clear line naming codec, topic, partition and offset (it
// used to die with an uncaught UnsupportedCompressionError stack on zstd).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateTransactions } from '../../src/apps/fraud/generator.js';
import { crc32c, encodeRecordBatch } from '../../src/log/index.js';
import { commandExists, needService } from '../helpers/services.js';
import { RawClient, defer, testBroker } from '../broker/helpers.js';
import { PYTHON, pythonHas, run } from '../broker/processes.js';
import { produce } from '../broker/wire.js';
import { fraudDemoFrom, fraudDemoReadsAll } from './helpers.js';

const N = 600;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-codecs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const noKafkaPython = await needService(
  'python3 with kafka-python and snappy',
  async () => (await pythonHas('kafka')) && (await pythonHas('snappy')),
);

test(
  'the fraud demo reads every record of zstd (kcat) and xerial snappy (kafka-python) topics',
  { skip: noKcat, timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t);
    const lines = generateTransactions(N, { seed: 3 }).map((tx) => JSON.stringify(tx));
    const file = join(tmp, 'tx.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const k = await run(
      'kcat',
      ['-P', '-b', broker.address, '-t', 'tx-zstd', '-z', 'zstd', '-X', 'linger.ms=50'],
      { input: lines.join('\n') + '\n', timeoutMs: 60_000 }, // a file argument would be one record
    );
    assert.equal(k.code, 0, k.stderr);
    assert.equal(broker.log.partition('tx-zstd', 0).readBatches(0).readInt16BE(21) & 7, 4, 'stored as zstd');
    const topics = ['tx-zstd'];
    if (!noKafkaPython) {
      const script = `import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], compression_type='snappy', linger_ms=50)
for line in open(sys.argv[2], 'rb'):
    p.send('tx-snappy', line.rstrip(b'\\n'))
p.flush()`;
      const py = await run(PYTHON, ['-c', script, broker.address, file], { timeoutMs: 60_000 });
      assert.equal(py.code, 0, py.stderr);
      topics.push('tx-snappy');
    }
    for (const topic of topics) {
      await fraudDemoReadsAll(tmp, topic, `kafka://${broker.address}/${topic}`, N);
    }
  },
);

test(
  'a batch that does not decode stops the demo with one clear line, no stack',
  { timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    broker.log.createTopic('tx-bad', { partitions: 1 });
    const c = await RawClient.connect(broker.port);
    defer(t, () => c.close());
    const head = encodeRecordBatch([{ value: Buffer.from('{}') }], 0).subarray(0, 61);
    const bad = Buffer.concat([head, Buffer.from('definitely not zstd')]);
    bad.writeInt32BE(bad.length - 12, 8);
    bad.writeInt16BE(4, 21);
    bad.writeUInt32BE(crc32c(bad, 21, bad.length), 17);
    assert.equal((await produce(c, 'tx-bad', 0, bad)).responses[0].partitionResponses[0].errorCode, 0);
    const r = await fraudDemoFrom(tmp, 'tx-bad', `kafka://${broker.address}/tx-bad`, 10);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fetching tx-bad\/0 at offset 0: .*compressed with zstd.*does not decode/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  },
);
