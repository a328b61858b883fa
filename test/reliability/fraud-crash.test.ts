import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertSameOutcome, finishRun, killCycles } from './crash-driver.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-reliability-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ARGS = [
  'demo',
  'fraud',
  '--events',
  '60000',
  '--seed',
  '3',
  '--bad-rate',
  '0.002',
  '--no-dashboard',
  '--no-slo',
];
const CYCLES = 20;

describe('crash suite: sluice demo fraud under SIGKILL', () => {
  it(`${CYCLES} seeded kill -9 cycles (producing, processing, checkpointing, acting) end exactly like an uninterrupted run`, async () => {
    const clean = finishRun(ARGS, join(tmp, 'clean'));
    assert.equal(clean.processed + clean.dead_letters, 60000);
    const dir = join(tmp, 'killed');
    const kills = await killCycles({
      // Paced so that the stream spans many cycles: producing and processing overlap.
      args: [...ARGS, '--rate', '4000'],
      dataDir: dir,
      cycles: CYCLES,
      seed: 2026,
      // Start-up (tsx, model, LMDB, log recovery) takes about 2 s: kill 0.3-3 s into the run.
      killAfterMs: { from: 2300, spread: 2700 },
    });
    const got = finishRun(ARGS, dir);
    const context = `kill times (ms after start): ${kills.join(', ')}`;
    assert.equal(got.resumed, true, context);
    assert.equal(got.events_in, 60000, context);
    assert.equal(got.processed + got.dead_letters, 60000, context);
    assertSameOutcome(clean, got, ['dead_letters', 'actions', 'actions_digest', 'state_digest'], context);
  });
});
