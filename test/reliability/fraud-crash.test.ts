import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSameOutcome, finishRun, killCycles, stopCycles } from './crash-driver.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-reliability-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const EVENTS = 60000;
// 250 customers make 60,000 events span 125 days of event time, so after a restart many
// customers and terminals go idle for longer than their longest window (30 days, 37 with the
// terminals' label delay) and their running sums restart: with the default 1,000 customers the
// stream spans 31.5 days, no restored key went idle for a whole window, and a restored state
// that kept a stale base in its sums (issue 20, item 7) went unnoticed.
const ARGS = [
  'demo',
  'fraud',
  '--events',
  String(EVENTS),
  '--seed',
  '3',
  '--customers',
  '250',
  '--terminals',
  '500',
  '--bad-rate',
  '0.002',
  '--no-dashboard',
  '--no-slo',
];
const CYCLES = 20;
const OUTCOME = ['dead_letters', 'actions', 'actions_digest', 'state_digest'];

describe('crash suite: sluice demo fraud under SIGKILL and Ctrl-C', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let clean: Record<string, any>;
  before(() => {
    clean = finishRun(ARGS, join(tmp, 'clean'));
    assert.equal(clean.processed + clean.dead_letters, EVENTS);
  });

  it(`${CYCLES} seeded kill -9 cycles (producing, processing, checkpointing, acting) end exactly like an uninterrupted run`, async () => {
    const dir = join(tmp, 'killed');
    const kills = await killCycles({
      // Paced so that the stream spans many cycles: producing and processing overlap.
      args: [...ARGS, '--rate', '4000'],
      dataDir: dir,
      cycles: CYCLES,
      seed: 2026,
      // Counted from the first progress line, whatever start-up (tsx, model, LMDB, log
      // recovery) took: each kill lands 0-2.7 s into processing.
      killAfterMs: { from: 0, spread: 2700, after: 'first-progress' },
    });
    const got = finishRun(ARGS, dir);
    const context = `kill times (ms after the first progress line): ${kills.join(', ')}`;
    assert.equal(got.resumed, true, context);
    assert.equal(got.events_in, EVENTS, context);
    assert.equal(got.processed + got.dead_letters, EVENTS, context);
    assertSameOutcome(clean, got, OUTCOME, context);
  });

  it('graceful stops (Ctrl-C) at 15 %, 35 % and 55 % of the stream, each resumed, end exactly like an uninterrupted run', async () => {
    const dir = join(tmp, 'stopped');
    const stoppedAt = await stopCycles({
      // Paced: a resumed run first drains what the producer wrote ahead, then follows the rate,
      // so each cut lands within a second's progress of its mark.
      args: [...ARGS, '--rate', '4000'],
      dataDir: dir,
      stopAtDone: [0.15, 0.35, 0.55].map((f) => f * EVENTS),
    });
    const got = finishRun(ARGS, dir);
    const context = `records done at each stop: ${stoppedAt.join(', ')}`;
    assert.equal(got.resumed, true, context);
    assert.equal(got.processed + got.dead_letters, EVENTS, context);
    assertSameOutcome(clean, got, OUTCOME, context);
  });
});
