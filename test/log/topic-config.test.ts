// Per-topic overrides of segment and retention options: applied at once to open partitions,
// kept across a reopen, validated; and DeleteRecords' log start offset, kept across a reopen.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Log } from '../../src/log/index.js';
import { defer, throwsCode, tempDir } from './helpers.js';

const value = Buffer.alloc(100, 7);

test('topic overrides apply to open partitions at once and survive a reopen', (t) => {
  const dir = tempDir(t);
  const log = Log.open(dir, { fsync: 'never' });
  log.createTopic('a', { partitions: 1 });
  log.createTopic('b', { partitions: 1 });
  const a = log.partition('a', 0);
  for (let i = 0; i < 20; i++) a.append([{ value }]);
  assert.equal(a.logStartOffset, 0, 'one big segment: nothing to delete yet');
  log.setTopicConfig('a', { segmentBytes: 400, retentionBytes: 1000 });
  for (let i = 0; i < 20; i++) a.append([{ value }]);
  assert.ok(
    a.logStartOffset > 0,
    `small segments rolled and retention removed old ones (start ${a.logStartOffset})`,
  );
  assert.deepEqual(log.topicConfig('b'), {}, 'other topics keep the log-wide options');
  throwsCode(() => log.setTopicConfig('a', { segmentBytes: 5 }), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => log.setTopicConfig('a', { retentionMs: -7 }), 'SLUICE_LOG_INVALID_ARGUMENT');
  assert.deepEqual(
    log.topicConfig('a'),
    { segmentBytes: 400, retentionBytes: 1000 },
    'a refused change changes nothing',
  );
  log.close();
  const again = Log.open(dir, { fsync: 'never' });
  defer(t, () => again.close());
  assert.deepEqual(again.topicConfig('a'), { segmentBytes: 400, retentionBytes: 1000 });
  again.deleteTopic('a');
  again.createTopic('a', { partitions: 1 });
  assert.deepEqual(again.topicConfig('a'), {}, 'a deleted topic takes its overrides with it');
});

test('deleteRecordsBefore moves the log start offset durably, inside a segment', (t) => {
  const dir = tempDir(t);
  const log = Log.open(dir, { fsync: 'never' });
  log.createTopic('d', { partitions: 1 });
  const p = log.partition('d', 0);
  for (let i = 0; i < 10; i++) p.append([{ value: Buffer.from(`r${i}`) }]);
  assert.equal(p.deleteRecordsBefore(4), 4);
  assert.equal(p.deleteRecordsBefore(2), 4, 'the start never moves back');
  assert.throws(() => p.read(3), /out of range/);
  assert.equal(p.read(4).records[0].value!.toString(), 'r4');
  log.close();
  const again = Log.open(dir, { fsync: 'never' });
  defer(t, () => again.close());
  const q = again.partition('d', 0);
  assert.equal(q.logStartOffset, 4);
  assert.equal(q.highWatermark, 10);
});
