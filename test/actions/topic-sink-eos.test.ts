// topicSink's exactly-once mode on the embedded log: the actions of a checkpoint interval are
// appended only when the checkpoint is taken, so no reader sees the outputs of an interval that
// was not checkpointed, and each output is in the topic exactly once even when the pipeline is
// killed with SIGKILL mid-run and restarted.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { topicSink } from '../../src/actions/index.js';
import { Log } from '../../src/log/index.js';
import { defer, tempDir } from '../broker/helpers.js';
import { eosEntries, finishEosRun, killEosRunsMidway, writeEosInput } from './fixtures/eos-runs.js';

const N = 3000;

/** Bytes in the segment files of `out` partition 0 (read while another process holds the log). */
function outBytes(dir: string): number {
  const part = join(dir, 'log', 'out-0');
  if (!existsSync(part)) return 0;
  return readdirSync(part)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(part, f)).size, 0);
}

/** The ids in topic `out` of the log in `dir`. */
function outputIds(log: Log): number[] {
  const p = log.partition('out', 0);
  const ids: number[] = [];
  for (let o = p.logStartOffset; o < p.highWatermark;) {
    const { records, nextOffset } = p.read(o, 4 << 20);
    for (const r of records) ids.push((JSON.parse(r.value!.toString()) as { id: number }).id);
    o = nextOffset;
  }
  return ids;
}

test('exactly-once topicSink: outputs appended at the checkpoint only; an interval not checkpointed is written once by the replay', async (t) => {
  const log = Log.open(tempDir(t));
  defer(t, () => log.close());
  const sink = topicSink({ log, topic: 'out', exactlyOnce: true });
  await sink.open!({ pipeline: 'p' });
  assert.equal((await sink.deliver(eosEntries(0, 5))).done, 5);
  assert.equal(log.partition('out', 0).highWatermark, 0, 'held back until the checkpoint');
  await sink.flush!();
  assert.equal(log.partition('out', 0).highWatermark, 5);
  await sink.deliver(eosEntries(5, 5));
  await sink.close!(); // a crash before the checkpoint: nothing of the interval is written
  assert.equal(log.partition('out', 0).highWatermark, 5);
  const again = topicSink({ log, topic: 'out', exactlyOnce: true });
  await again.open!({ pipeline: 'p' });
  const replay = await again.deliver(eosEntries(0, 10));
  assert.deepEqual([replay.done, replay.duplicates], [5, 5]);
  await again.flush!();
  assert.deepEqual(outputIds(log), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test(
  'exactly-once topicSink under kill -9: each output in the topic exactly once',
  { timeout: 240_000 },
  async (t) => {
    const dir = tempDir(t);
    writeEosInput(dir, N);
    // The job holds the log's lock: watch the output's segment files grow, and kill mid-run.
    const kills = await killEosRunsMidway(t, dir, 'log', {
      cycles: 3,
      seed: 11,
      progress: () => outBytes(dir),
      min: 8_000,
      spread: 16_000,
      pollMs: 10,
    });
    const between = Log.open(join(dir, 'log'));
    const before = between.hasTopic('out') ? outputIds(between).length : 0;
    between.close();
    const last = await finishEosRun(dir, 'log');
    assert.equal(last.code, 0, last.stderr);
    const done = Log.open(join(dir, 'log'));
    defer(t, () => done.close());
    const ids = outputIds(done);
    const counts = new Map<number, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).length;
    const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !counts.has(i)).length;
    console.log(
      `exactly-once topicSink, ${kills} kill -9 mid-run (${before} outputs written before the last run): ${N} inputs, ${ids.length} outputs: ${missing} lost, ${duplicated} duplicated`,
    );
    assert.ok(
      kills >= 1 && before > 0 && before < N,
      `killed mid-run (${before} outputs before the last run)`,
    );
    assert.deepEqual([missing, duplicated, ids.length], [0, 0, N]);
  },
);
