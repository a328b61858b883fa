import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LatencyHistogram, Observer, PipelineMetrics } from '../../src/observe/index.js';
import { parsePrometheus, slowPipeline, type PromFamily } from './helpers.js';

const labelSet = (f: PromFamily, name = f.name) => [
  ...new Set(f.samples.filter((s) => s.name === name).map((s) => Object.keys(s.labels).sort().join(','))),
];

describe('Prometheus /metrics', () => {
  it('exports names, types and label sets by the conventions, with counters that only grow', async () => {
    const run = slowPipeline('prom', 1500).run({ progressIntervalMs: 100, batchSize: 256 });
    const obs = new Observer({
      evaluateEveryMs: 0,
      slo: [{ name: 'e2e', metric: 'e2e_p99_ms', op: '<', threshold: 1e6 }],
    });
    obs.add(run.metrics);
    await new Promise((r) => setTimeout(r, 500));
    obs.evaluate();
    const first = parsePrometheus(await obs.prometheus.metrics());
    await new Promise((r) => setTimeout(r, 500));
    const second = parsePrometheus(await obs.prometheus.metrics());
    await run.done;
    obs.close();

    for (const [name, f] of second) {
      assert.ok(f.type && f.help, `${name} has HELP and TYPE`);
      if (f.type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
      if (name.startsWith('sluice_'))
        assert.match(name, /_(total|seconds|bytes|records|batches|state|firing|value|threshold)$/, name);
    }
    for (const name of obs.prometheus.names) assert.ok(second.has(name), `${name} is exported`);
    const fam = (n: string) => second.get(n)!;
    assert.equal(fam('sluice_stage_latency_seconds').type, 'summary');
    assert.deepEqual(labelSet(fam('sluice_stage_latency_seconds')), ['pipeline,quantile,stage']);
    assert.deepEqual(labelSet(fam('sluice_stage_latency_seconds'), 'sluice_stage_latency_seconds_count'), [
      'pipeline,stage',
    ]);
    assert.deepEqual(
      fam('sluice_stage_latency_seconds')
        .samples.filter((s) => s.labels.quantile === '0.99')
        .map((s) => s.labels.stage),
      ['double', 'model', 'sink:collect'],
    );
    assert.deepEqual(labelSet(fam('sluice_e2e_latency_seconds')), ['pipeline,quantile']);
    assert.deepEqual(labelSet(fam('sluice_records_processed_total')), ['pipeline']);
    assert.deepEqual(labelSet(fam('sluice_dead_letters_total')), ['pipeline,stage']);
    assert.deepEqual(labelSet(fam('sluice_queue_depth_batches')), ['pipeline,stage']);
    assert.deepEqual(labelSet(fam('sluice_batch_size_records')), ['pipeline,quantile,stage']);
    assert.deepEqual(labelSet(fam('sluice_slo_firing')), ['pipeline,slo']);
    assert.equal(fam('sluice_dead_letters_total').samples[0]!.labels.stage, 'double');
    assert.ok(second.has('process_resident_memory_bytes') && second.has('nodejs_heap_size_used_bytes'));

    // Quantiles are ordered, in seconds, and _count matches the stage's records.
    const q = (n: string, quantile: string) =>
      fam(n).samples.find((s) => s.labels.quantile === quantile && s.labels.stage === 'model')!.value;
    const p50 = q('sluice_stage_latency_seconds', '0.5');
    const p99 = q('sluice_stage_latency_seconds', '0.99');
    assert.ok(p50 > 0 && p50 <= p99 && p99 < 1, `model p50 ${p50} s, p99 ${p99} s`);

    for (const [name, f] of first) {
      if (f.type !== 'counter' && f.type !== 'summary') continue;
      for (const s of f.samples) {
        if (f.type === 'summary' && s.labels.quantile !== undefined) continue;
        const later = second
          .get(name)!
          .samples.find((t) => t.name === s.name && JSON.stringify(t.labels) === JSON.stringify(s.labels));
        assert.ok(later, `${s.name} ${JSON.stringify(s.labels)} still exported`);
        assert.ok(later.value >= s.value, `${s.name} is monotonic: ${s.value} -> ${later.value}`);
      }
    }
    const processed = (m: Map<string, PromFamily>) =>
      m.get('sluice_records_processed_total')!.samples[0]!.value;
    assert.ok(processed(second) > processed(first), 'the counter moved while the pipeline ran');
  });

  it('computes quantiles from the HdrHistograms, equal to their own percentiles', async () => {
    let now = 0;
    const m = new PipelineMetrics('q', () => now);
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    obs.add(m);
    const reference = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) {
      m.e2e.record(i / 100);
      reference.record(i / 100);
    }
    now = 1000;
    m.tick(0);
    const e2e = parsePrometheus(await obs.prometheus.metrics()).get('sluice_e2e_latency_seconds')!;
    for (const quantile of ['0.5', '0.9', '0.99', '0.999']) {
      const got = e2e.samples.find((s) => s.labels.quantile === quantile)!.value;
      assert.equal(got, reference.percentile(Number(quantile) * 100) / 1000, quantile);
    }
    assert.equal(e2e.samples.find((s) => s.name.endsWith('_count'))!.value, 10_000);
    const sum = e2e.samples.find((s) => s.name.endsWith('_sum'))!.value;
    assert.ok(Math.abs(sum - 500.05) < 0.5, `sum ${sum} s`);
    obs.close();
  });

  it('is documented: every exported name is in the table of docs/observe.md', () => {
    const docs = readFileSync(new URL('../../docs/observe.md', import.meta.url), 'utf8');
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    for (const name of obs.prometheus.names)
      assert.ok(docs.includes(`\`${name}\``), `${name} in docs/observe.md`);
    obs.close();
  });
});
