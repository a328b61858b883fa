import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Observer, PipelineMetrics } from '../../src/observe/index.js';
import { collect, fromArray, pipeline, type ModelLike } from '../../src/stream/index.js';
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
    for (const name of [
      'sluice_stage_latency_seconds',
      'sluice_e2e_latency_seconds',
      'sluice_event_time_latency_seconds',
      'sluice_checkpoint_duration_seconds',
      'sluice_batch_wait_seconds',
      'sluice_model_call_seconds',
      'sluice_batch_size_records',
    ])
      assert.equal(fam(name).type, 'histogram', name);
    assert.deepEqual(labelSet(fam('sluice_stage_latency_seconds'), 'sluice_stage_latency_seconds_bucket'), [
      'le,pipeline,stage',
    ]);
    assert.deepEqual(labelSet(fam('sluice_stage_latency_seconds'), 'sluice_stage_latency_seconds_count'), [
      'pipeline,stage',
    ]);
    assert.deepEqual(
      fam('sluice_stage_latency_seconds')
        .samples.filter((s) => s.labels.le === '+Inf')
        .map((s) => s.labels.stage),
      ['double', 'model', 'sink:collect'],
    );
    assert.deepEqual(labelSet(fam('sluice_e2e_latency_seconds'), 'sluice_e2e_latency_seconds_bucket'), [
      'le,pipeline',
    ]);
    assert.deepEqual(
      fam('sluice_batch_wait_seconds')
        .samples.filter((s) => s.labels.le === '+Inf')
        .map((s) => s.labels.stage),
      ['model', 'sink:collect'],
    );
    assert.deepEqual(labelSet(fam('sluice_records_processed_total')), ['pipeline']);
    assert.deepEqual(labelSet(fam('sluice_dead_letters_total')), ['pipeline,stage']);
    assert.deepEqual(labelSet(fam('sluice_queue_depth_batches')), ['pipeline,stage']);
    assert.deepEqual(labelSet(fam('sluice_batch_size_records'), 'sluice_batch_size_records_bucket'), [
      'le,pipeline,stage',
    ]);
    assert.deepEqual(labelSet(fam('sluice_slo_firing')), ['pipeline,slo']);
    assert.equal(fam('sluice_dead_letters_total').samples[0]!.labels.stage, 'double');
    assert.ok(second.has('process_resident_memory_bytes') && second.has('nodejs_heap_size_used_bytes'));

    // Buckets are cumulative, in seconds, end in +Inf = _count, and that counts the stage's records.
    const model = (n: string) =>
      fam('sluice_stage_latency_seconds').samples.filter(
        (s) => s.labels.stage === 'model' && s.name.endsWith(n),
      );
    const buckets = model('_bucket');
    assert.equal(buckets.at(-1)!.labels.le, '+Inf');
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `cumulative at le=${buckets[i]!.labels.le}`);
      if (i < buckets.length - 1)
        assert.ok(Number(buckets[i]!.labels.le) > Number(buckets[i - 1]!.labels.le));
    }
    assert.equal(buckets.at(-1)!.value, model('_count')[0]!.value);
    assert.ok(model('_count')[0]!.value > 0, 'the model stage has folded records');
    // The model sleeps ≥ 1 ms per batch: none of its records is under 0.5 ms, all under 1 s.
    assert.equal(buckets.find((b) => b.labels.le === '0.0005')!.value, 0);
    assert.equal(buckets.find((b) => b.labels.le === '1')!.value, model('_count')[0]!.value);

    for (const [name, f] of first) {
      // Counters and every histogram sample (buckets, _sum, _count) must never go backwards.
      if (f.type !== 'counter' && f.type !== 'histogram') continue;
      for (const s of f.samples) {
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

  it('derives the buckets from the HdrHistograms: counts at each bound, a direct count within 0.1 %', async () => {
    let now = 0;
    const m = new PipelineMetrics('q', () => now);
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    obs.add(m);
    // 0.01 ms .. 100 ms: values on both sides of most bounds, some exactly on a bound.
    const values = Array.from({ length: 10_000 }, (_, i) => (i + 1) / 100);
    for (const v of values) m.e2e.record(v);
    now = 1000;
    m.tick(0);
    const e2e = parsePrometheus(await obs.prometheus.metrics()).get('sluice_e2e_latency_seconds')!;
    for (const b of e2e.samples.filter((s) => s.name.endsWith('_bucket'))) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      // HdrHistogram keeps 3 significant digits: a value up to 0.1 % above a bound may count under it.
      const exact = values.filter((v) => v / 1000 <= le).length;
      const loose = values.filter((v) => v / 1000 <= le * 1.001).length;
      assert.ok(
        b.value >= exact && b.value <= loose,
        `le=${b.labels.le}: ${b.value} in [${exact}, ${loose}]`,
      );
    }
    assert.deepEqual(
      e2e.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le),
      [
        '0.0005',
        '0.001',
        '0.0025',
        '0.005',
        '0.01',
        '0.025',
        '0.05',
        '0.1',
        '0.25',
        '0.5',
        '1',
        '2.5',
        '5',
        '10',
        '30',
        '+Inf',
      ],
    );
    assert.equal(e2e.samples.find((s) => s.name.endsWith('_count'))!.value, 10_000);
    const sum = e2e.samples.find((s) => s.name.endsWith('_sum'))!.value;
    assert.ok(Math.abs(sum - 500.05) < 0.5, `sum ${sum} s`);
    obs.close();
  });

  it('keeps cumulative buckets across ticks: a quiet tick after a busy one takes nothing back', async () => {
    let now = 0;
    const m = new PipelineMetrics('mono', () => now);
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    obs.add(m);
    const scrape = async () =>
      parsePrometheus(await obs.prometheus.metrics())
        .get('sluice_stage_latency_seconds')!
        .samples.map((s) => [`${s.name}${JSON.stringify(s.labels)}`, s.value] as const);
    m.stage('s').recordMany(3, 100);
    now = 1000;
    m.tick(0);
    const first = new Map(await scrape());
    // Two minutes later (past any sliding window) with a few fast values only.
    m.stage('s').recordMany(0.2, 5);
    now = 121_000;
    m.tick(0);
    const second = new Map(await scrape());
    for (const [k, v] of first) assert.ok(second.get(k)! >= v, `${k}: ${v} -> ${second.get(k)}`);
    assert.equal(second.get('sluice_stage_latency_seconds_count{"pipeline":"mono","stage":"s"}'), 105);
    assert.equal(
      second.get('sluice_stage_latency_seconds_bucket{"pipeline":"mono","stage":"s","le":"0.0005"}'),
      5,
    );
    assert.equal(
      second.get('sluice_stage_latency_seconds_bucket{"pipeline":"mono","stage":"s","le":"0.005"}'),
      105,
    );
    obs.close();
  });

  it('times every model call of an infer stage and the queue wait in front of it', async () => {
    let calls = 0;
    const model: ModelLike = {
      async run(inputs) {
        calls++;
        await new Promise((r) => setTimeout(r, 3));
        const n = inputs.features!.dims[0]!;
        return { score: { type: 'float32', data: new Float32Array(n), dims: [n, 1] } };
      },
    };
    const run = pipeline('calls')
      .from(fromArray(Array.from({ length: 1000 }, (_, i) => i)))
      .infer(model, { width: 1, input: (i) => [i], output: (i) => i, name: 'score' })
      .to(collect<number>())
      .run({ batchSize: 250 });
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    obs.add(run.metrics);
    await run.done;
    run.metrics.tick(0); // folds the last interval, as the next tick would
    const families = parsePrometheus(await obs.prometheus.metrics());
    const callSamples = families.get('sluice_model_call_seconds')!.samples;
    const series = (n: string, le?: string) =>
      callSamples.find(
        (s) => s.name === `sluice_model_call_seconds${n}` && s.labels.le === le && s.labels.stage === 'score',
      )!.value;
    assert.equal(calls, 4);
    assert.equal(series('_count'), 4, 'one value per call, not per record');
    assert.equal(series('_bucket', '0.001'), 0, 'each call slept 3 ms');
    assert.equal(series('_bucket', '+Inf'), 4);
    assert.ok(series('_sum') >= 0.012 && series('_sum') < 4, `sum ${series('_sum')} s`);
    const wait = families
      .get('sluice_batch_wait_seconds')!
      .samples.find((s) => s.name === 'sluice_batch_wait_seconds_count' && s.labels.stage === 'score')!;
    assert.equal(wait.value, 1000, 'the wait of each batch counts once per record');
    obs.close();
  });

  it('is documented: every exported name is in the table of docs/observe.md', () => {
    const docs = readFileSync(new URL('../../docs/observe.md', import.meta.url), 'utf8');
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    for (const name of obs.prometheus.names)
      assert.ok(docs.includes(`\`${name}\``), `${name} in docs/observe.md`);
    obs.close();
  });

  it('exports how far behind a source is per partition in seconds (Kinesis MillisBehindLatest)', async () => {
    const m = new PipelineMetrics('kin');
    m.tick(0, undefined, { 'tx/0': 1500, 'tx/3': 0 });
    const obs = new Observer({ evaluateEveryMs: 0 });
    obs.add(m);
    // The lines themselves: the process metrics beside them are not settled this early.
    const text = await obs.prometheus.metrics();
    obs.close();
    assert.match(text, /# TYPE sluice_partition_lag_seconds gauge/);
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('sluice_partition_lag_seconds{')),
      [
        'sluice_partition_lag_seconds{pipeline="kin",partition="tx/0"} 1.5',
        'sluice_partition_lag_seconds{pipeline="kin",partition="tx/3"} 0',
      ],
    );
  });
});
