import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import {
  LatencyHistogram,
  PipelineMetrics,
  SlidingHistogram,
  WindowedHistogram,
} from '../../src/observe/index.js';
import { seededRandom } from '../../src/core/random.js';

/** Exact percentile by the nearest-rank method, the definition HdrHistogram approximates. */
function exact(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('LatencyHistogram', () => {
  it('matches exact percentiles within 0.1% (3 significant digits) from microseconds to minutes', () => {
    const rand = seededRandom(42);
    const values = Array.from({ length: 50_000 }, () => Math.exp(rand() * Math.log(60_000)) * 0.01);
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    const sum = h.summary();
    for (const [p, got] of [
      [50, sum.p50],
      [90, sum.p90],
      [99, sum.p99],
      [99.9, sum.p999],
    ] as const) {
      const want = exact(sorted, p);
      // 1 µs resolution floor + 0.1% relative precision
      assert.ok(Math.abs(got - want) <= want * 0.001 + 0.001, `p${p}: got ${got}, exact ${want}`);
    }
    assert.ok(Math.abs(sum.max - sorted.at(-1)!) <= sorted.at(-1)! * 0.001 + 0.001);
    assert.ok(sum.p999 <= sum.max && sum.p99 <= sum.p999);
    assert.equal(sum.count, 50_000);
  });

  it('records a batch of equal values at once, and clamps negatives and huge values', () => {
    const h = new LatencyHistogram();
    h.recordMany(2, 1000);
    h.record(-5);
    h.record(1e12);
    assert.equal(h.count, 1002);
    assert.equal(h.percentile(50), 2);
    assert.equal(h.summary().max, 3_600_000);
  });
});

describe('LatencyHistogram summary and add (one pass, bounded)', () => {
  /** hdr's own figures for the same values, through its public API (the reference). */
  function reference(values: number[]) {
    const r = hdr.build({
      bitBucketSize: 64,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
    });
    for (const v of values) r.recordValue(Math.min(3_600_000_000, Math.max(0, Math.round(v * 1000))));
    const at = (p: number) => Math.min(r.getValueAtPercentile(p), r.maxValue) / 1000;
    return {
      count: r.totalCount,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: r.maxValue / 1000,
      mean: r.mean / 1000,
    };
  }

  it("gives exactly hdr's percentiles, max and mean, for any mix of values", () => {
    const rand = seededRandom(7);
    const sets = [
      [3],
      [0, 0, 0],
      [0, 5, 5000, 1e7],
      Array.from({ length: 999 }, () => rand() * 4),
      Array.from({ length: 5000 }, () => Math.exp(rand() * Math.log(60_000)) * 0.01),
      Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 300 + rand() : rand())),
    ];
    for (const values of sets) {
      const h = new LatencyHistogram();
      for (const v of values) h.record(v);
      assert.deepEqual(h.summary(), reference(values), `${values.length} values`);
    }
  });

  it("adds another histogram as hdr's add does: the same summary, exact max, and empty adds change nothing", () => {
    const rand = seededRandom(11);
    const a = Array.from({ length: 3000 }, () => rand() * 20);
    const b = Array.from({ length: 700 }, () => 40 + rand() * 2000);
    const total = new LatencyHistogram();
    for (const part of [a, b]) {
      const h = new LatencyHistogram();
      for (const v of part) h.record(v);
      total.add(h);
      total.add(new LatencyHistogram());
    }
    assert.deepEqual(total.summary(), reference([...a, ...b]));
  });
});

describe('LatencyHistogram.countsAtOrBelow (Prometheus buckets)', () => {
  it('counts cumulatively at each bound: zeros, values on a bound, values above every bound, empty', () => {
    const bounds = [0.5, 1, 2.5, 30_000];
    assert.deepEqual(new LatencyHistogram().countsAtOrBelow(bounds), [0, 0, 0, 0]);
    const h = new LatencyHistogram();
    h.recordMany(0, 3); // a stage that took no measurable time
    h.record(0.5); // exactly on a bound: counted under it (le is "less or equal")
    h.record(0.501);
    h.record(2);
    h.recordMany(60_000, 2); // above every bound: only in +Inf (the total count)
    assert.deepEqual(h.countsAtOrBelow(bounds), [4, 5, 6, 6]);
    assert.equal(h.count, 8);
  });

  it('agrees with a direct count within the 0.1 % the histogram keeps, for random values', () => {
    const bounds = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
    const h = new LatencyHistogram();
    const rand = seededRandom(7);
    const values = Array.from({ length: 20_000 }, () => Math.exp(rand() * 13) / 100); // 0.01 ms .. 4 s
    for (const v of values) h.record(v);
    const got = h.countsAtOrBelow(bounds);
    bounds.forEach((b, i) => {
      const lo = values.filter((v) => v <= b).length;
      const hi = values.filter((v) => v <= b * 1.001).length;
      assert.ok(got[i]! >= lo && got[i]! <= hi, `le=${b}: ${got[i]} in [${lo}, ${hi}]`);
    });
  });
});

describe('WindowedHistogram and PipelineMetrics', () => {
  it('reports the recent window on tick and everything in the summary', () => {
    const w = new WindowedHistogram();
    w.recordMany(1, 100);
    assert.equal(w.rollover().count, 100);
    w.recordMany(9, 100);
    const recent = w.rollover();
    assert.equal(recent.count, 100);
    assert.equal(recent.p50, 9);
    const all = w.summary();
    assert.equal(all.count, 200);
    assert.equal(all.p50, 1);
  });

  it('computes events/s per interval and lists stages in order', async () => {
    const m = new PipelineMetrics('p');
    m.stage('decode');
    m.stage('infer').record(1);
    m.counters.processed = 500;
    await new Promise((r) => setTimeout(r, 50));
    const t = m.tick(7);
    assert.equal(t.lag, 7);
    assert.ok(t.eps > 500 && t.eps < 500 / 0.04, `eps ${t.eps}`);
    assert.deepEqual(Object.keys(m.stageSummaries()), ['decode', 'infer']);
  });
});

describe('SlidingHistogram and windows', () => {
  it('keeps values for the window and drops them after it (age buckets, fake clock)', () => {
    let now = 0;
    const w = new SlidingHistogram(60_000, () => now);
    const a = new LatencyHistogram();
    a.recordMany(1, 100);
    w.add(a);
    now = 50_000;
    const b = new LatencyHistogram();
    b.recordMany(5, 100);
    w.add(b);
    assert.equal(w.histogram().count, 200);
    now = 61_000;
    assert.equal(w.histogram().count, 100, 'the values of t=0 left the window');
    assert.equal(w.histogram().percentile(50), 5);
    now = 10 * 60_000;
    assert.equal(w.histogram().count, 0, 'a long pause empties it');
  });

  it('window percentiles match exact percentiles of the values recorded in the window', () => {
    let now = 0;
    const h = new WindowedHistogram(() => now);
    const win = h.window(30_000);
    const rand = seededRandom(7);
    const all: number[] = [];
    for (let tick = 0; tick < 20; tick++) {
      for (let i = 0; i < 2000; i++) {
        const v = Math.exp(rand() * Math.log(10_000)) * 0.01; // 10 µs .. 100 ms
        h.record(v);
        all.push(v);
      }
      h.rollover();
      now += 1000;
    }
    const sorted = [...all].sort((x, y) => x - y);
    for (const p of [50, 90, 99, 99.9]) {
      const want = exact(sorted, p);
      const got = win.histogram().percentile(p);
      assert.ok(Math.abs(got - want) <= want * 0.001 + 0.001, `p${p}: got ${got}, exact ${want}`);
    }
    assert.equal(h.foldedCount, 40_000);
    const sum = all.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(h.foldedSum - sum) <= sum * 0.001, `sum ${h.foldedSum} vs ${sum}`);
  });

  it('tick reports stage, event-time and batch-size figures and calls listeners, even after one fails', () => {
    let now = 1000;
    const m = new PipelineMetrics('t', () => now);
    m.stage('decode').recordMany(0.5, 10);
    m.batchSize('infer').record(64);
    m.recordEventTime([{ eventTime: 100 }, { eventTime: 100 }, { eventTime: 400 }], 1100);
    const seen: number[] = [];
    m.onTick(() => {
      throw new Error('observer bug');
    });
    m.onTick((p) => seen.push(p.stages.decode!.count));
    now = 2000;
    const p = m.tick(5, { 'a/0': 5 });
    assert.deepEqual(seen, [10]);
    assert.equal(p.eventTime.count, 3);
    assert.equal(p.eventTime.max, 1000);
    assert.equal(p.batchSizes.infer!.p50, 64);
    assert.deepEqual(p.partitionLag, { 'a/0': 5 });
    assert.equal(p.intervalMs, 1000);
    assert.equal(PipelineMetrics.live('t'), m);
  });
});
