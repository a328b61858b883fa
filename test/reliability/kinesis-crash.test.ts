// `sluice demo fraud --from kinesis://...` killed with SIGKILL mid-run and restarted on the same
// data dir, against kinesalite: the restart resumes after the checkpointed sequence numbers and
// the effects (alerts) are exactly those of an uninterrupted run, each once.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LmdbCheckpointStore } from '../../src/stream/index.js';
import { startKinesalite, type Kinesalite } from '../helpers/kinesalite.js';
import { putTransactions } from '../helpers/kinesis-tx.js';
import { assertSameOutcome, finishRun, killCycles } from './crash-driver.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-kinesis-crash-'));
const EVENTS = 20_000;
const CYCLES = 4;
let k: Kinesalite;

before(async () => {
  // In a child process: finishRun blocks this one's event loop while sluice runs.
  k = await startKinesalite({ inChild: true });
  // One shard: the fraud features span customers, so the order of records across shards would
  // change the scores; on one shard an uninterrupted run is the exact reference.
  await k.createStream('tx', 1);
  assert.equal(await putTransactions(k, 'tx', EVENTS, { seed: 3, customers: 250, terminals: 500 }), EVENTS);
});
after(async () => {
  await k?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const args = (alerts: string, events = EVENTS) => [
  'demo',
  'fraud',
  '--from',
  // 500 records per GetRecords, 5 calls/s: the run takes seconds, so the kills land mid-stream.
  `kinesis://tx?region=us-east-1&endpoint=${k.endpoint}&limit=500`,
  '--events',
  String(events),
  '--alerts-to',
  `file:${alerts}`,
  '--no-dashboard',
  '--no-slo',
];

/** Records the checkpoint in `dataDir` covers: the sum of its per-shard ordinals. */
async function checkpointed(dataDir: string): Promise<number> {
  const store = LmdbCheckpointStore.open(join(dataDir, 'state'));
  try {
    const cp = await store.load('fraud');
    const offsets = Object.entries(cp?.offsets ?? {}).filter(([key]) => key.startsWith('tx/'));
    for (const [key] of offsets) assert.match(key, /^tx\/0@\d+$/, 'the shard position is a sequence number');
    return offsets.reduce((s, [, n]) => s + n, 0);
  } finally {
    await store.close();
  }
}

const alertKeys = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { key: string }).key);

describe('crash suite: sluice demo fraud --from kinesis:// under SIGKILL', () => {
  it(`${CYCLES} kill -9 cycles, then a run to the end: the alerts of an uninterrupted run, each once`, async () => {
    const cleanAlerts = join(tmp, 'clean.jsonl');
    const clean = finishRun(args(cleanAlerts), join(tmp, 'clean'));
    assert.equal(clean.processed + clean.dead_letters, EVENTS);
    assert.ok(clean.actions > 10, `${clean.actions} alerts`);

    const dir = join(tmp, 'killed');
    const alerts = join(tmp, 'killed.jsonl');
    const kills = await killCycles({
      args: args(alerts),
      dataDir: dir,
      cycles: CYCLES,
      seed: 23,
      killAfterMs: { from: 0, spread: 2500, after: 'first-progress' },
    });
    const done = await checkpointed(dir);
    const context = `kill times ${kills.join(', ')} ms after the first progress line; ${done} records checkpointed after the last`;
    assert.ok(done < EVENTS, `the kills all landed after the end; ${context}`);
    // The last run reads what the checkpoint does not cover (--events counts this run's records).
    const got = finishRun(args(alerts, EVENTS - done), dir);
    assert.equal(got.resumed, true, context);
    assert.equal(got.processed + got.dead_letters, EVENTS, context);
    assertSameOutcome(clean, got, ['actions', 'actions_digest', 'state_digest'], context);
    const keys = alertKeys(alerts);
    const distinct = new Set(keys);
    console.log(
      `kinesis kill -9: ${CYCLES} kills, ${keys.length} alert effects, ${distinct.size} distinct (uninterrupted: ${clean.actions}); ${context}`,
    );
    assert.equal(keys.length, distinct.size, 'no alert took effect twice');
    assert.deepEqual([...distinct].sort(), alertKeys(cleanAlerts).sort(), 'the same alerts, same keys');
    for (const key of distinct) assert.match(key, /^fraud\/alert\/tx-shardId-000000000000@\d+$/);
  });
});
