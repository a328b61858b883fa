import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runHandwritten } from '../../bench/handwritten-fraud.js';
import { prefilledDataDir } from '../../bench/scenarios/e2e.js';
import { ActionLedger } from '../../src/actions/index.js';
import { runFraudDemo } from '../../src/apps/fraud/demo.js';
import { LR_MODEL_INFO_PATH, LR_MODEL_PATH } from '../../src/apps/fraud/model-info.js';

// The ceiling is only honest if it does all the pipeline's work: same scores for every record
// (so the same 15 inputs), same alerts with the same keys and payloads.
test('the hand-written fraud program scores and alerts exactly as the pipeline does', async () => {
  const events = 40_000;
  const dir = await prefilledDataDir(events);
  const out = mkdtempSync(join(tmpdir(), 'sluice-handwritten-'));
  try {
    const hand = await runHandwritten(dir, out);
    const sluice = await runFraudDemo({
      seed: 42,
      customers: 1000,
      terminals: 2000,
      badRate: 0,
      events,
      dataDir: dir,
      // The hand-written program scores with the logistic regression, as the e2e bench's pipeline does.
      modelPath: LR_MODEL_PATH,
      modelInfoPath: LR_MODEL_INFO_PATH,
    });
    assert.equal(hand.processed, events);
    assert.equal(sluice.processed, events);
    assert.ok(hand.alerts > 20, `too few alerts to compare: ${hand.alerts}`);
    assert.equal(hand.alerts, sluice.actions);
    const ledger = ActionLedger.open(hand.ledger_path);
    assert.equal(ledger.digest(), sluice.actions_digest);
    ledger.close();
    // Terminal risk features must be non-zero somewhere, or the delayed windows go unchecked.
    const scores = readFileSync(join(dir, 'scores.bin'));
    let frauds = 0;
    for (let at = 4; at < scores.length; at += 24) if (scores.readFloatLE(at) === 2) frauds++;
    assert.ok(frauds > 0, 'no fraud labels in the input');
    assert.deepEqual(readFileSync(hand.scores_path), scores);
    // With checkpoints (the same durable work as the pipeline's): the same outputs, and saves.
    const durable = await runHandwritten(dir, join(out, 'cp'), { checkpointIntervalMs: 5 });
    assert.ok(durable.checkpoints >= 2, `${durable.checkpoints} checkpoints`);
    const ledger2 = ActionLedger.open(durable.ledger_path);
    assert.equal(ledger2.digest(), sluice.actions_digest);
    ledger2.close();
    assert.deepEqual(readFileSync(durable.scores_path), scores);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});
