import assert from 'node:assert/strict';
import { test } from 'node:test';

// The peer comparison is only meaningful if both sides compute the same windows: the scenario
// throws when any (key, window) count differs. A small run checks that it runs and agrees.
test('the kafkats scenario counts the same windows with Sluice and @kafkats/flow', async () => {
  process.env.SLUICE_BENCH_KAFKATS_N = '3000';
  process.env.SLUICE_BENCH_KAFKATS_ROUNDS = '1';
  const { run } = await import('../../bench/scenarios/kafkats.js');
  const r = await run();
  assert.equal(r.figures.results_equal, true);
  // 3,000 events 10 ms apart: 30 s of event time, one 1-minute window (or two) per key.
  assert.ok((r.figures.windows as number) >= 1000);
  assert.ok(r.ratios.vs_kafkats_flow! > 0);
  assert.deepEqual(Object.keys(r.ratios_spread!), ['vs_kafkats_flow']);
});
