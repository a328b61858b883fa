// The writers of topics take a `compression` option: the topic sink and the log's dead letters
// store batches compressed with it (read back through the same log, and a reopened topic sink
// still dedupes from the compressed topic); a codec that cannot be written fails at construction.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicActionSink, type ActionEntry } from '../../src/actions/index.js';
import { logDeadLetters, readDeadLetters } from '../../src/connectors/index.js';
import { Log, LogError, zstdWritable } from '../../src/log/index.js';
import { tempDir } from '../integration/helpers.js';

const entry = (i: number): ActionEntry => ({
  key: `p/a/t-0@${i}`,
  action: 'a',
  payload: { i, note: 'the same words again and again and again' },
  time: 0,
  eventTime: i,
  recordKey: undefined,
});

const codecOfFirstBatch = (log: Log, topic: string) =>
  log.partition(topic, 0).readBatches(0).readInt16BE(21) & 7;

test('topicActionSink writes compressed batches and dedupes a replay from them after a reopen', async (t) => {
  const dir = tempDir(t);
  let log = Log.open(dir);
  let sink = topicActionSink({ log, topic: 'alerts', compression: 'lz4' });
  await sink.open!({ pipeline: 'p' });
  await sink.deliver(Array.from({ length: 50 }, (_, i) => entry(i)));
  sink.flush!();
  assert.equal(codecOfFirstBatch(log, 'alerts'), 3, 'stored as lz4');
  log.close();
  log = Log.open(dir);
  t.after(() => log.close());
  sink = topicActionSink({ log, topic: 'alerts', compression: 'gzip' });
  await sink.open!({ pipeline: 'p' });
  const again = await sink.deliver([entry(3), entry(50)]);
  assert.deepEqual([again.done, again.duplicates], [1, 1]);
  const values = log
    .partition('alerts', 0)
    .read(0)
    .records.map((r) => JSON.parse(r.value!.toString()).i);
  assert.equal(values.length, 51);
  assert.equal(values[50], 50);
});

test('logDeadLetters writes compressed dead letters that sluice dlq reads', (t) => {
  const log = Log.open(tempDir(t));
  t.after(() => log.close());
  const dlq = logDeadLetters(log, 'x.dlq', { compression: 'gzip' });
  dlq.write([
    { stage: 'parse', reason: 'bad json', original: '{oops', topic: 'x', partition: 0, offset: 7, time: 1 },
  ]);
  assert.equal(codecOfFirstBatch(log, 'x.dlq'), 1);
  assert.equal(log.partition('x.dlq', 0).read(0).records[0].value!.toString(), '{oops');
  // What `sluice dlq list|show|replay` read.
  const [letter] = readDeadLetters(log, 'x.dlq');
  assert.deepEqual([letter.stage, letter.reason, letter.offset], ['parse', 'bad json', 0]);
});

test('an unknown codec, or zstd where Node cannot write it, fails when the writer is built', (t) => {
  const log = Log.open(tempDir(t));
  t.after(() => log.close());
  assert.throws(
    () => topicActionSink({ log, topic: 'a', compression: 'brotli' as 'gzip' }),
    (e: unknown) => e instanceof LogError && /unknown compression "brotli"/.test(e.message),
  );
  if (!zstdWritable) assert.throws(() => logDeadLetters(log, 'd', { compression: 'zstd' }), /Node >= 22\.15/);
});
