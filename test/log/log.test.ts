import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Log } from '../../src/log/index.js';
import { defer, tempDir, throwsCode } from './helpers.js';

test('topics are created idempotently and read back after a restart', (t) => {
  const dir = tempDir(t);
  let log = Log.open(dir, { fsync: 'never' });
  log.createTopic('payments', { partitions: 3 });
  log.createTopic('payments', { partitions: 3 });
  log.createTopic('a.b_c-9', { partitions: 1 });
  throwsCode(() => log.createTopic('payments', { partitions: 4 }), 'SLUICE_LOG_TOPIC_EXISTS');
  throwsCode(() => log.createTopic('x', { partitions: 0 }), 'SLUICE_LOG_INVALID_ARGUMENT');
  assert.deepEqual(log.topics(), ['a.b_c-9', 'payments']);
  log.partition('payments', 2).append([{ key: Buffer.from('k'), value: Buffer.from('v') }]);
  log.close();
  assert.ok(!existsSync(join(dir, 'topics.json.tmp')));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8')).topics.payments, {
    partitions: 3,
  });

  log = Log.open(dir);
  defer(t, () => log.close());
  assert.ok(log.hasTopic('payments'));
  assert.equal(log.partitionCount('payments'), 3);
  const p = log.partition('payments', 2);
  assert.equal(p, log.partition('payments', 2), 'partitions are cached');
  assert.equal(p.highWatermark, 1);
  assert.equal(p.read(0).records[0].value?.toString(), 'v');
  assert.equal(log.partition('payments', 0).highWatermark, 0);
});

test('topic names follow Kafka rules', (t) => {
  const log = Log.open(tempDir(t));
  defer(t, () => log.close());
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'ü', 'x'.repeat(250), '../up']) {
    throwsCode(() => log.createTopic(bad, { partitions: 1 }), 'SLUICE_LOG_INVALID_TOPIC_NAME');
  }
  log.createTopic('x'.repeat(249), { partitions: 1 });
  assert.ok(log.hasTopic('x'.repeat(249)));
});

test('unknown topics and partitions are clear errors', (t) => {
  const log = Log.open(tempDir(t));
  defer(t, () => log.close());
  log.createTopic('t', { partitions: 2 });
  throwsCode(() => log.partition('nope', 0), 'SLUICE_LOG_UNKNOWN_TOPIC');
  throwsCode(() => log.partition('t', 2), 'SLUICE_LOG_UNKNOWN_PARTITION');
  throwsCode(() => log.partition('t', -1), 'SLUICE_LOG_UNKNOWN_PARTITION');
  throwsCode(() => log.deleteTopic('nope'), 'SLUICE_LOG_UNKNOWN_TOPIC');
  throwsCode(() => log.partitionCount('nope'), 'SLUICE_LOG_UNKNOWN_TOPIC');
});

test('deleteTopic removes records and metadata; a new topic of that name starts empty', (t) => {
  const dir = tempDir(t);
  let log = Log.open(dir);
  log.createTopic('t', { partitions: 2 });
  const p = log.partition('t', 1);
  p.append([{ value: Buffer.from('old') }]);
  log.deleteTopic('t');
  throwsCode(() => p.append([{ value: null }]), 'SLUICE_LOG_CLOSED');
  assert.equal(log.hasTopic('t'), false);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('t-')),
    [],
  );
  log.close();
  log = Log.open(dir);
  defer(t, () => log.close());
  assert.equal(log.hasTopic('t'), false);
  log.createTopic('t', { partitions: 2 });
  assert.equal(log.partition('t', 1).highWatermark, 0);
});

test('a directory is opened by one Log at a time', (t) => {
  const dir = tempDir(t);
  const log = Log.open(dir);
  throwsCode(() => Log.open(dir), 'SLUICE_LOG_LOCKED');
  log.close();
  log.close();
  throwsCode(() => log.createTopic('t', { partitions: 1 }), 'SLUICE_LOG_CLOSED');
  const again = Log.open(dir);
  again.close();
});

test('committed offsets live beside the log and survive a restart', (t) => {
  const dir = tempDir(t);
  let log = Log.open(dir);
  log.offsets.commit('scorer', 'payments', 0, 42, 'm');
  log.close();
  log = Log.open(dir);
  defer(t, () => log.close());
  assert.equal(log.offsets.committed('scorer', 'payments', 0), 42);
  assert.deepEqual(log.offsets.committedEntry('scorer', 'payments', 0), { offset: 42, metadata: 'm' });
  assert.ok(existsSync(join(dir, '__consumer_offsets')));
});

test('a damaged topics.json stops open with an explanation', async (t) => {
  const dir = tempDir(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'topics.json'), '{"version":1,"topics":{"t":{"partitions":');
  throwsCode(() => Log.open(dir), 'SLUICE_LOG_CORRUPT');
  // The failed open released the directory.
  writeFileSync(join(dir, 'topics.json'), '{"version":1,"topics":{"t":{"partitions":2}}}');
  const log = Log.open(dir);
  defer(t, () => log.close());
  assert.equal(log.partitionCount('t'), 2);
});
