// A run that takes over from an earlier run of the same pipeline in the same process (a
// scaled-out back half after a rebalance) carries on from its metrics: what /metrics exports
// only grows, what the summary counts covers both runs, its throughput is its own.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Observer } from '../../src/observe/index.js';
import { collect, fromArray, pipeline } from '../../src/stream/index.js';

const valueOf = (text: string, sample: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
};

it('a run given carryMetricsFrom carries on from the earlier run’s counters and histograms', async () => {
  const build = (n: number) =>
    pipeline('carry')
      .from(fromArray(Array.from({ length: n }, (_, i) => i)))
      .filter((x) => x % 10 !== 0, { name: 'odd' })
      .map((x) => (x % 7 === 3 ? Number.NaN : x))
      .to(collect());
  const obs = new Observer({ evaluateEveryMs: 0 });
  const first = build(300).run({ progressIntervalMs: 50 });
  obs.add(first.metrics);
  const one = await first.done;
  const before = await obs.prometheus.metrics();

  const second = build(200).run({ progressIntervalMs: 50, carryMetricsFrom: first.metrics });
  obs.add(second.metrics); // replaces the first run, as a worker's next assignment does
  const two = await second.done;
  const after = await obs.prometheus.metrics();
  obs.close();

  assert.equal(one.counters.in, 300);
  assert.equal(two.counters.in, 500, 'the summary counts both runs');
  assert.equal(two.counters.processed, one.counters.processed + 200);
  assert.equal(valueOf(after, 'sluice_records_in_total{pipeline="carry"}'), 500);
  for (const sample of [
    'sluice_records_processed_total{pipeline="carry"}',
    'sluice_e2e_latency_seconds_count{pipeline="carry"}',
    'sluice_e2e_latency_seconds_bucket{pipeline="carry",le="+Inf"}',
  ]) {
    const was = valueOf(before, sample);
    assert.ok(was > 0, `${sample} was exported by the first run`);
    assert.ok(valueOf(after, sample) > was, `${sample} went on from ${was}, is ${valueOf(after, sample)}`);
  }
  // Records that reached the sink (the filter drops one in ten): 270 + 180.
  assert.equal(second.metrics.e2e.foldedCount, 450, 'e2e latency of both runs');
  assert.ok(two.throughputEps > 0 && two.throughputEps < 1e9, 'throughput is this run’s');
});
