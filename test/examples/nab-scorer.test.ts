import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAB_PROFILES, parseNabTimestamp } from '../../src/apps/anomaly/nab-corpus.js';
import {
  nabScore,
  optimizeThreshold,
  probationRows,
  rawScore,
  scaledSigmoid,
  type ScoredSeries,
} from '../../src/apps/anomaly/nab-scorer.js';
import { scoredSeries as series } from '../helpers/scored-series.js';

const std = NAB_PROFILES.standard!;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('NAB scoring', () => {
  it('uses the scaled sigmoid and the probationary period of the rules', () => {
    close(scaledSigmoid(-1), 2 / (1 + Math.exp(-5)) - 1);
    close(scaledSigmoid(0), 0);
    assert.ok(scaledSigmoid(0.5) < 0 && scaledSigmoid(0.5) > -1);
    assert.equal(scaledSigmoid(10), -1);
    assert.equal(probationRows(100), 15);
    assert.equal(probationRows(20_000), 750);
    assert.equal(parseNabTimestamp('2014-04-10 07:15:00.000000'), Date.UTC(2014, 3, 10, 7, 15));
  });

  it('scores only the earliest detection of a window, by its position', () => {
    // Window rows 40..49 (10 rows): a detection on row 40 is worth A_TP, row 45 σ(−0.5)/σ(−1)
    // (NAB's sweeper divides by σ(−1)).
    const first = rawScore(series([[40, 49]], [40, 45, 48]), std, 0.5);
    close(first.raw, std.tpWeight);
    assert.deepEqual([first.tp, first.fp, first.fn], [1, 0, 0]);
    close(rawScore(series([[40, 49]], [45]), std, 0.5).raw, scaledSigmoid(-5 / 10) / scaledSigmoid(-1));
  });

  it('charges misses and false positives (full before any window, scaled after one)', () => {
    const miss = rawScore(series([[40, 49]], []), std, 0.5);
    assert.deepEqual([miss.raw, miss.tp, miss.fn], [-1, 0, 1]);
    const before = rawScore(series([[40, 49]], [20]), std, 0.5);
    close(before.raw, -1 - std.fpWeight);
    // Row 55 is 6 rows past the window's end (10 rows wide): cost fpWeight·σ(6/9), NAB's
    // distance in (width − 1) rows.
    const after = rawScore(series([[40, 49]], [55]), std, 0.5);
    close(after.raw, -1 + std.fpWeight * scaledSigmoid(6 / 9));
    // Detections in the probationary period do not count at all.
    close(rawScore(series([[40, 49]], [3]), std, 0.5).raw, -1);
  });

  it('normalises so that never firing is 0 and a perfect detector is 100', () => {
    const windows: [number, number][] = [
      [30, 39],
      [70, 79],
    ];
    assert.equal(nabScore([series(windows, [])], std, 0.5).score, 0);
    close(nabScore([series(windows, [30, 70])], std, 0.5).score, 100);
    const fn2 = NAB_PROFILES.reward_low_FN_rate!;
    close(nabScore([series(windows, [30])], fn2, 0.5).score, (100 * (1 - 2 + 4)) / (2 + 4));
  });

  it('picks the threshold that maximises the corpus score, as a brute-force sweep does', () => {
    // Two files with graded scores: noise everywhere, higher scores near the windows.
    const mk = (seed: number, windows: [number, number][]): ScoredSeries => {
      const s = series(windows, []);
      let x = seed;
      const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      s.scores = Array.from(s.times, (_, i) => {
        const near = windows.some(([a, b]) => i >= a - 3 && i <= b);
        return Math.round((near ? 0.5 + rnd() / 2 : rnd() * 0.8) * 100) / 100;
      });
      return s;
    };
    const corpus = [
      mk(1, [[40, 49]]),
      mk(7, [
        [25, 34],
        [80, 89],
      ]),
    ];
    for (const profile of Object.values(NAB_PROFILES)) {
      const best = optimizeThreshold(corpus, profile);
      let brute = -Infinity;
      for (const t of new Set(corpus.flatMap((s) => Array.from(s.scores))))
        brute = Math.max(brute, nabScore(corpus, profile, t).score);
      brute = Math.max(brute, nabScore(corpus, profile, Infinity).score);
      close(best.score, brute, 1e-9);
      close(nabScore(corpus, profile, best.threshold).score, best.score);
    }
  });
});
