// The research's claims about the shipped detectors: each class the anomaly demo ships computes
// exactly the combination the search logged and scored (online-search.ts, ensemble-search.ts),
// and the search's own scoring helpers (bags, cross-validation) do what their logs say.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ARTimeDetector, type ARTimeOnlineOptions } from '../../../src/apps/anomaly/artime.js';
import { MULTI_SCALE_DEFAULTS, MultiScaleARTime } from '../../../src/apps/anomaly/artime-online.js';
import { RefractoryARTime } from '../../../src/apps/anomaly/artime-refractory.js';
import { SeriesAnomalyDetector } from '../../../src/apps/anomaly/detector.js';
import { ENSEMBLE_DEFAULTS, EnsembleDetector } from '../../../src/apps/anomaly/ensemble.js';
import { NAB_PROFILES } from '../../../src/apps/anomaly/nab-corpus.js';
import { nabScore } from '../../../src/apps/anomaly/nab-scorer.js';
import { sensorSeries } from '../../../test/helpers/sensor-series.js';
import { crossValidate } from '../cv.js';
import { candidates } from '../ensemble-search.js';
import { BAGS, bagScores, ENSEMBLES, ensembleScores, HANDOVERS, handoverScores } from '../online-search.js';
import { scoredSeries as series } from '../../../test/helpers/scored-series.js';

const STEP = 300_000;
const T0 = Date.UTC(2015, 0, 1);
const std = NAB_PROFILES.standard!;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

function onlineScores(xs: number[], online: ARTimeOnlineOptions): number[] {
  const d = new ARTimeDetector({ online });
  return xs.map((x, i) => d.update(i * STEP, x));
}

describe('the shipped detectors are the configurations the search logged', () => {
  const { probations, range, margin } = MULTI_SCALE_DEFAULTS;

  it("is the hand-over the search scored: row t gets the longest probation <= t/2's score", () => {
    const xs = sensorSeries(2400, 5, { shiftAt: 2000 });
    const scales = probations.map((p) => [onlineScores(xs, { probationRows: p, range, margin })]);
    const d = new MultiScaleARTime();
    const seen: number[] = [];
    const got = xs.map((x, i) => {
      const s = d.update(i * STEP, x);
      seen.push(d.scale);
      return s;
    });
    assert.deepEqual(got, handoverScores({ ...MULTI_SCALE_DEFAULTS }, scales)[0]);
    // Each instance speaks from row 2P, index 2P - 1 (the first, 150, from the start).
    assert.deepEqual(
      [seen[0], seen[598], seen[599], seen[899], seen[1199], seen[1498], seen[1499], seen[2399]],
      [150, 150, 300, 450, 600, 600, 750, 750],
    );
    assert.equal(d.rows, xs.length);
    // The shipped configuration is one the search logged.
    assert.ok(
      HANDOVERS.some(([, h]) => JSON.stringify({ ...h }) === JSON.stringify({ ...MULTI_SCALE_DEFAULTS })),
    );
    // A mutation check on the comparison itself: another hand-over gives other scores here.
    assert.notDeepEqual(got, handoverScores({ ...MULTI_SCALE_DEFAULTS, handover: 0.2 }, scales)[0]);
  });

  it("is the larger of ARTime at several scales and half of this project's detector, as the search scored it", () => {
    const xs = sensorSeries(3000, 11, { shiftAt: 2400, spikeEvery: [911, 500] });
    const multi = new MultiScaleARTime();
    const ours = new SeriesAnomalyDetector();
    const a = xs.map((x, i) => multi.update(i * STEP, x));
    const s = xs.map((x, i) => ours.update(i * STEP, x));
    const e = new EnsembleDetector();
    const got = xs.map((x, i) => e.update(i * STEP, x));
    const shipped = ENSEMBLES.find(
      ([, t]) =>
        t.form === 'max' &&
        t.weight === ENSEMBLE_DEFAULTS.oursWeight &&
        !t.refractoryRows &&
        JSON.stringify(t.artime) === JSON.stringify({ ...MULTI_SCALE_DEFAULTS }),
    );
    assert.ok(shipped, 'the shipped combination is one the search logged');
    assert.deepEqual(got, ensembleScores(shipped[1], [a], [s])[0]);
    // Both parts matter on this series: some rows take ours' half, some ARTime's score.
    assert.ok(got.some((v, i) => v > 0 && v === 0.5 * s[i]! && v !== a[i]));
    assert.ok(got.some((v, i) => v > 0 && v === a[i]! && v !== 0.5 * s[i]!));
    assert.equal(e.rows, xs.length);
  });

  it('artime-refractory is the rule ensemble-search.ts scored (96 configurations)', () => {
    const values = sensorSeries(4000, 7, { shiftAt: 3000 }).map((v, i) =>
      i % 450 === 300 || i % 450 === 365 ? v + 80 : v,
    );
    const info = { min: Math.min(...values), max: Math.max(...values), length: values.length };
    // The shipped rule is the one the search scored (ensemble-search.ts, 96 configurations).
    const list = candidates();
    assert.equal(list.length, 96);
    const rule = list.find(([name]) => name === 'refractory f=0.5 R=0.02n')![1];
    const art = new ARTimeDetector(info);
    const shipped = new RefractoryARTime(info);
    const scores = values.map((x, i) => art.update(T0 + i * 5 * 60_000, x));
    assert.deepEqual(
      values.map((x, i) => shipped.update(T0 + i * 5 * 60_000, x)),
      rule({ a: scores, s: scores.map(() => 0) }),
    );
  });
});

describe('cross-validation (cv.ts)', () => {
  it('cross-validates: each held-out series is scored with the candidate and threshold chosen on the others', () => {
    // Candidate 0 fires inside the window of series a and b, outside it on c; candidate 1 the reverse.
    const hit = series([[40, 60]], [45]);
    const miss = series([[40, 60]], [80]);
    const base = ['a', 'b', 'c'].map((name) => ({ ...hit, name, scores: undefined }));
    const scores = [
      [hit.scores, hit.scores, miss.scores],
      [miss.scores, miss.scores, hit.scores],
    ].map((c) => c.map((s) => Array.from(s)));
    const cv = crossValidate(base, scores, ['a', 'b', 'c'], { standard: std });
    // Leaving c out, a and b favour candidate 0, which misses c: c is not rescued by its own labels.
    assert.deepEqual(
      cv.chosen.map((c) => c.candidate),
      [0, 0, 0],
    );
    const expected = nabScore([hit, hit, miss], std, 1).score;
    close(cv.strict.standard!, Number(expected.toFixed(2)), 1e-9);
  });
});

describe('the search: bags of hand-overs over range settings (tried, not shipped)', () => {
  it('scores the power mean of its members, then the larger of that and w × ours', () => {
    const a = [[0, 0.6, 0, 0.2]];
    const b = [[0, 0.8, 0.4, 0]];
    const ours = [[0.9, 0, 0, 0.1]];
    const [name, quadratic] = BAGS.find(([, t]) => t.power === 2 && !t.oursWeight)!;
    assert.match(name, /^bag h=.* p=2$/);
    const got = bagScores(quadratic, [a, b], ours)[0]!;
    const want = [0, Math.sqrt(0.5), Math.sqrt(0.08), Math.sqrt(0.02)];
    got.forEach((v, t) => assert.ok(Math.abs(v - want[t]!) < 1e-12, `row ${t}: ${v} vs ${want[t]}`));
    const withOurs = bagScores({ ...quadratic, power: 1, oursWeight: 0.5 }, [a, b], ours)[0]!;
    assert.deepEqual(withOurs, [0.45, 0.7, 0.2, 0.1]);
  });

  it('logs 72 distinct bags, every member a five-scale hand-over', () => {
    assert.equal(BAGS.length, 72);
    assert.equal(new Set(BAGS.map(([n]) => n)).size, 72);
    for (const [, t] of BAGS)
      for (const m of t.members) assert.deepEqual(m.probations, [...MULTI_SCALE_DEFAULTS.probations]);
  });
});
