// topicSink's exactly-once mode on the embedded log: the actions of a checkpoint interval are
// appended only when the checkpoint is taken, so no reader sees the outputs of an interval that
// was not checkpointed, and each output is in the topic exactly once even when the pipeline is
// killed with SIGKILL mid-run and restarted.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { topicSink } from '../../src/actions/index.js';
import { Log } from '../../src/log/index.js';
import { defer, tempDir } from '../broker/helpers.js';
import { run } from '../broker/processes.js';

const job = new URL('./fixtures/eos-job.ts', import.meta.url).pathname;
const N = 3000;

const entries = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    key: `p/a/in-0@${from + i}`,
    action: 'a',
    payload: { id: from + i },
    time: 0,
    eventTime: from + i,
    recordKey: undefined,
  }));

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
  assert.equal((await sink.deliver(entries(0, 5))).done, 5);
  assert.equal(log.partition('out', 0).highWatermark, 0, 'held back until the checkpoint');
  await sink.flush!();
  assert.equal(log.partition('out', 0).highWatermark, 5);
  await sink.deliver(entries(5, 5));
  await sink.close!(); // a crash before the checkpoint: nothing of the interval is written
  assert.equal(log.partition('out', 0).highWatermark, 5);
  const again = topicSink({ log, topic: 'out', exactlyOnce: true });
  await again.open!({ pipeline: 'p' });
  const replay = await again.deliver(entries(0, 10));
  assert.deepEqual([replay.done, replay.duplicates], [5, 5]);
  await again.flush!();
  assert.deepEqual(outputIds(log), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test(
  'exactly-once topicSink under kill -9: each output in the topic exactly once',
  { timeout: 240_000 },
  async (t) => {
    const dir = tempDir(t);
    const log = Log.open(join(dir, 'log'));
    log.createTopic('in', { partitions: 1 });
    for (let i = 0; i < N; i += 500)
      log
        .partition('in', 0)
        .append(
          Array.from({ length: 500 }, (_, j) => ({ value: Buffer.from(JSON.stringify({ id: i + j })) })),
        );
    log.close();
    let s = 11;
    const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    let kills = 0;
    for (let cycle = 0; cycle < 3; cycle++) {
      const child = spawn(process.execPath, ['--import', 'tsx', job, dir, 'log'], { stdio: 'ignore' });
      defer(t, () => child.kill('SIGKILL'));
      const exited = new Promise((r) => child.once('exit', r));
      // The job holds the log's lock: watch the output's segment files grow, and kill mid-run.
      const from = outBytes(dir);
      const target = from + 8_000 + Math.floor(rand() * 16_000);
      let ended = false;
      void exited.then(() => (ended = true));
      while (!ended && outBytes(dir) < target) await new Promise((r) => setTimeout(r, 10));
      const killed = !ended;
      if (killed) kills++;
      child.kill('SIGKILL');
      await exited;
    }
    const between = Log.open(join(dir, 'log'));
    const before = between.hasTopic('out') ? outputIds(between).length : 0;
    between.close();
    const last = await run(process.execPath, ['--import', 'tsx', job, dir, 'log'], { timeoutMs: 120_000 });
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
