// kafkaSink's exactly-once mode against `sluice broker`: the actions of a checkpoint interval are
// produced in one transaction and committed with the checkpoint, so a read_committed consumer
// (KafkaJS, another client) never sees the outputs of an interval that was not checkpointed,
// and sees each output exactly once even when the pipeline is killed with SIGKILL mid-run and
// restarted (its replay skips what was committed and redoes what was aborted).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { kafkaSink } from '../../src/actions/index.js';
import { Log } from '../../src/log/index.js';
import { defer, tempDir, testBroker } from '../broker/helpers.js';
import { run } from '../broker/processes.js';
import { kafkajsRead, duplicatedAndMissing } from '../broker/txn-clients.js';

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

test(
  'exactly-once kafkaSink: outputs visible to read_committed only at the checkpoint; an aborted interval is redone once',
  { timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    const sink = kafkaSink({ brokers: broker.address, topic: 'eos', exactlyOnce: true });
    await sink.open!({ pipeline: 'p' });
    assert.equal((await sink.deliver(entries(0, 5))).done, 5);
    const hw = () => broker.log.partition('eos', 0).highWatermark;
    assert.equal(hw(), 5, 'written to the log');
    await sink.flush!(); // the checkpoint: commit
    assert.equal((await sink.deliver(entries(5, 5))).done, 5);
    await sink.close!(); // not checkpointed: aborted
    const reopened = kafkaSink({ brokers: broker.address, topic: 'eos', exactlyOnce: true });
    await reopened.open!({ pipeline: 'p' });
    defer(t, () => reopened.close!());
    const replay = await reopened.deliver(entries(0, 10));
    assert.deepEqual([replay.done, replay.duplicates], [5, 5], 'committed keys skipped, aborted ones redone');
    await reopened.flush!();
    const values = await kafkajsRead(broker.address, 'eos', 10);
    assert.deepEqual(
      values.map((v) => (JSON.parse(v) as { id: number }).id),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const all = broker.log.partition('eos', 0).read(0).records.length;
    assert.equal(all, 15, 'the aborted attempt stays in the log, invisible to read_committed');
  },
);

test(
  'exactly-once kafkaSink under kill -9: a read_committed consumer sees each output exactly once',
  { timeout: 240_000 },
  async (t) => {
    const broker = await testBroker(t);
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
    let s = 7;
    const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    let kills = 0;
    for (let cycle = 0; cycle < 3; cycle++) {
      const child = spawn(process.execPath, ['--import', 'tsx', job, dir, broker.address], {
        stdio: 'ignore',
      });
      defer(t, () => child.kill('SIGKILL'));
      const exited = new Promise((r) => child.once('exit', r));
      // Killed once this run has produced some outputs (after startup, mid-run).
      const outHw = () => (broker.log.hasTopic('out') ? broker.log.partition('out', 0).highWatermark : 0);
      const from = outHw();
      const target = from + 150 + Math.floor(rand() * 300);
      let ended = false;
      void exited.then(() => (ended = true));
      while (!ended && outHw() < target) await new Promise((r) => setTimeout(r, 20));
      const killed = !ended;
      if (killed) kills++;
      child.kill('SIGKILL');
      await exited;
    }
    // Not spawnSync: the broker runs in this process and must keep answering.
    const last = await run(process.execPath, ['--import', 'tsx', job, dir, broker.address], {
      timeoutMs: 120_000,
    });
    assert.equal(last.code, 0, last.stderr);
    const values = (await kafkajsRead(broker.address, 'out', N)).map(
      (v) => `${(JSON.parse(v) as { id: number }).id}`,
    );
    const { duplicated, missing } = duplicatedAndMissing(
      values,
      Array.from({ length: N }, (_, i) => `${i}`),
    );
    const stored = broker.log.partition('out', 0).read(0, 64 << 20).records.length;
    console.log(
      `exactly-once kafkaSink, ${kills} kill -9 mid-run: ${N} inputs, read_committed saw ${values.length}: ${missing.length} lost, ${duplicated.length} duplicated; ${stored - N} aborted outputs in the log (read_uncommitted would see them)`,
    );
    assert.ok(kills >= 1, 'at least one run was killed mid-run');
    assert.deepEqual(missing, [], 'no output lost');
    assert.deepEqual(duplicated, [], 'no output twice');
    assert.equal(values.length, N);
  },
);
