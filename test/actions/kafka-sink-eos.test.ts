// kafkaSink's exactly-once mode against `sluice broker`: the actions of a checkpoint interval are
// produced in one transaction and committed with the checkpoint, so a read_committed consumer
// (KafkaJS, another client) never sees the outputs of an interval that was not checkpointed,
// and sees each output exactly once even when the pipeline is killed with SIGKILL mid-run and
// restarted (its replay skips what was committed and redoes what was aborted).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaSink } from '../../src/actions/index.js';
import { defer, tempDir, testBroker } from '../broker/helpers.js';
import { eosEntries, finishEosRun, killEosRunsMidway, writeEosInput } from './fixtures/eos-runs.js';
import { kafkajsRead, duplicatedAndMissing } from '../broker/txn-clients.js';

const N = 3000;

test(
  'exactly-once kafkaSink: outputs visible to read_committed only at the checkpoint; an aborted interval is redone once',
  { timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t);
    const sink = kafkaSink({ brokers: broker.address, topic: 'eos', exactlyOnce: true });
    await sink.open!({ pipeline: 'p' });
    assert.equal((await sink.deliver(eosEntries(0, 5))).done, 5);
    const hw = () => broker.log.partition('eos', 0).highWatermark;
    assert.equal(hw(), 5, 'written to the log');
    await sink.flush!(); // the checkpoint: commit
    assert.equal((await sink.deliver(eosEntries(5, 5))).done, 5);
    await sink.close!(); // not checkpointed: aborted
    const reopened = kafkaSink({ brokers: broker.address, topic: 'eos', exactlyOnce: true });
    await reopened.open!({ pipeline: 'p' });
    defer(t, () => reopened.close!());
    const replay = await reopened.deliver(eosEntries(0, 10));
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
    writeEosInput(dir, N);
    // Killed once a run has produced some outputs (after startup, mid-run).
    const outHw = () => (broker.log.hasTopic('out') ? broker.log.partition('out', 0).highWatermark : 0);
    const kills = await killEosRunsMidway(t, dir, broker.address, {
      cycles: 3,
      seed: 7,
      progress: outHw,
      min: 150,
      spread: 300,
      pollMs: 20,
    });
    // Not spawnSync: the broker runs in this process and must keep answering.
    const last = await finishEosRun(dir, broker.address);
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
