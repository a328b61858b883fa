import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_NAB_DIR } from '../../src/cli/commands/demo-anomaly.js';
import {
  ARTimeDetector,
  haarDwt8,
  type ARTimeOnlineOptions,
  type ARTimeSeriesInfo,
} from '../../src/apps/anomaly/artime.js';
import { MULTI_SCALE_DEFAULTS, MultiScaleARTime } from '../../src/apps/anomaly/artime-online.js';
import { readNabSeries } from '../../src/apps/anomaly/nab-corpus.js';
import { sensorSeries } from '../helpers/sensor-series.js';

const infoOf = (xs: number[]): ARTimeSeriesInfo => ({
  min: Math.min(...xs),
  max: Math.max(...xs),
  length: xs.length,
});

function scores(xs: number[], info = infoOf(xs)): number[] {
  const d = new ARTimeDetector(info);
  return xs.map((x, i) => d.update(i * 300_000, x));
}

describe('ARTime detector', () => {
  it('lays out the Haar transform as Wavelets.jl does (approximation, then coarse to fine details)', () => {
    const out = haarDwt8([1, 2, 3, 4, 5, 6, 7, 9], new Float64Array(8));
    const expected = [
      18.5 / Math.SQRT2,
      8.5 / Math.SQRT2,
      2,
      2.5,
      0.5 ** 0.5,
      0.5 ** 0.5,
      0.5 ** 0.5,
      2 ** 0.5,
    ];
    out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12, `coefficient ${i}: ${v}`));
    const spike = haarDwt8([1, 0, 0, 0, 0, 0, 0, 0], new Float64Array(8));
    assert.ok(spike[4]! < 0, 'a detail is (second - first)/sqrt(2)');
  });

  it('derives the probation and downsampling from the length, as ARTime does', () => {
    const short = new ARTimeDetector({ min: 0, max: 1, length: 4032 });
    assert.deepEqual([short.probation, short.sstep, short.trendWindow], [604, 5, 120]);
    const long = new ARTimeDetector({ min: 0, max: 1, length: 22695 });
    assert.deepEqual([long.probation, long.sstep, long.trendWindow], [750, 7, 107]);
  });

  it('detects an obvious level shift, with its strongest score, and scores the probation 0', () => {
    for (const seed of [1, 7, 42]) {
      const xs = sensorSeries(2000, seed, { shiftAt: 1500 });
      const s = scores(xs);
      assert.ok(
        s.slice(0, 300).every((v) => v === 0),
        'probation rows score 0',
      );
      const top = s.indexOf(Math.max(...s));
      assert.ok(top >= 1500 && top < 1520, `seed ${seed}: strongest score at row ${top}`);
      assert.equal(s[top], 1);
      assert.ok(
        s.every((v) => v >= 0 && v <= 1),
        'scores in [0, 1]',
      );
    }
  });

  it('scores a prefix the same whatever follows it (given the min, max and length NAB grants)', () => {
    const a = sensorSeries(2000, 3, { shiftAt: 1500 });
    const b = a.slice(0, 1200).concat(sensorSeries(800, 9, { shiftAt: 100 }));
    // Same up-front information for both, so only the rows themselves could differ.
    const info = { min: 0, max: 120, length: 2000 };
    const sa = scores(a, info);
    const sb = scores(b, info);
    assert.deepEqual(sa.slice(0, 1200), sb.slice(0, 1200));
    assert.notDeepEqual(sa.slice(1200), sb.slice(1200));
  });

  const hold = join(DEFAULT_NAB_DIR, 'data', 'realKnownCause', 'rogue_agent_key_hold.csv');
  it('reproduces the published ARTime scores of rogue_agent_key_hold', { skip: !existsSync(hold) }, () => {
    const d = readNabSeries(hold);
    const s = scores(d.values);
    const fired = s.flatMap((v, i) => (v > 0 ? [[i, v]] : []));
    // NAB's results/ARTime/realKnownCause/ARTime_rogue_agent_key_hold.csv: its non-zero rows.
    const published = [
      [319, 0.344253],
      [329, 0.465235],
      [423, 0.412616],
      [433, 1],
      [569, 0.380668],
      [617, 0.436222],
      [1315, 0.505303],
      [1569, 0.666653],
    ];
    assert.equal(fired.length, published.length, JSON.stringify(fired));
    fired.forEach(([i, v], k) => {
      assert.equal(i, published[k]![0]);
      assert.ok(Math.abs(v! - published[k]![1]!) < 1e-6, `row ${i}: ${v}`);
    });
  });
});

function onlineScores(xs: number[], online: ARTimeOnlineOptions): number[] {
  const d = new ARTimeDetector({ online });
  return xs.map((x, i) => d.update(i * 300_000, x));
}

const ONLINE: ARTimeOnlineOptions[] = [
  { probationRows: 600, range: 'remap' },
  { probationRows: 300, range: 'remap', margin: 0.5 },
  { probationRows: 600, range: 'clamp', margin: 0.25 },
];

describe('ARTime without look-ahead (online)', () => {
  it('fixes its probation in rows, told nothing about the series', () => {
    const d = new ARTimeDetector({ online: { probationRows: 600, range: 'remap' } });
    assert.deepEqual([d.probation, d.sstep, d.trendWindow, d.info], [600, 5, 120, undefined]);
  });

  it('scores a prefix the same whatever follows it, a widening range included', () => {
    const a = sensorSeries(3000, 3, { shiftAt: 2500 });
    // The continuation leaves the range of the prefix (up to 10x), so `remap` re-expresses its state.
    const b = a
      .slice(0, 1200)
      .concat(sensorSeries(1800, 9, { shiftAt: 100 }).map((v, i) => (i > 900 ? 10 * v : v - 200)));
    for (const online of ONLINE) {
      const sa = onlineScores(a, online);
      const sb = onlineScores(b, online);
      assert.deepEqual(sa.slice(0, 1200), sb.slice(0, 1200), JSON.stringify(online));
      assert.notDeepEqual(sa.slice(1200), sb.slice(1200), JSON.stringify(online));
      assert.ok(
        sb.every((v) => v >= 0 && v <= 1),
        'scores in [0, 1]',
      );
    }
  });

  it('detects a synthetic level shift, scoring its own probation 0', () => {
    for (const online of ONLINE)
      for (const seed of [1, 7, 42]) {
        const s = onlineScores(sensorSeries(2000, seed, { shiftAt: 1500 }), online);
        assert.ok(
          s.slice(0, online.probationRows).every((v) => v === 0),
          'probation rows score 0',
        );
        const top = s.indexOf(Math.max(...s));
        assert.ok(
          top >= 1500 && top < 1520,
          `${JSON.stringify(online)} seed ${seed}: strongest score at row ${top}`,
        );
        assert.ok(s[top]! > 0.5, `strongest score ${s[top]}`);
      }
  });
});

describe('ARTime at several scales without look-ahead (artime-online)', () => {
  it('hands over from each instance at row 2P (the shortest probation from the start)', () => {
    const xs = sensorSeries(2400, 5, { shiftAt: 2000 });
    const d = new MultiScaleARTime();
    const seen = xs.map((x, i) => (d.update(i * 300_000, x), d.scale));
    assert.deepEqual(
      [seen[0], seen[598], seen[599], seen[899], seen[1199], seen[1498], seen[1499], seen[2399]],
      [150, 150, 300, 450, 600, 600, 750, 750],
    );
    assert.deepEqual([...MULTI_SCALE_DEFAULTS.probations], [150, 300, 450, 600, 750]);
    assert.equal(d.rows, xs.length);
  });

  const multiScores = (xs: number[], d = new MultiScaleARTime()) =>
    xs.map((x, i) => d.update(i * 300_000, x));

  it('scores a prefix the same whatever follows it, and detects a level shift', () => {
    const a = sensorSeries(3000, 3, { shiftAt: 2500 });
    const b = a
      .slice(0, 1200)
      .concat(sensorSeries(1800, 9, { shiftAt: 100 }).map((v, i) => (i > 900 ? 10 * v : v - 200)));
    const sa = multiScores(a);
    const sb = multiScores(b);
    assert.deepEqual(sa.slice(0, 1200), sb.slice(0, 1200));
    assert.notDeepEqual(sa.slice(1200), sb.slice(1200));
    assert.ok(
      sb.every((v) => v >= 0 && v <= 1),
      'scores in [0, 1]',
    );
    for (const seed of [1, 7, 42]) {
      const s = multiScores(sensorSeries(2000, seed, { shiftAt: 1500 }));
      assert.ok(
        s.slice(0, 150).every((v) => v === 0),
        'the first probation scores 0',
      );
      const top = s.indexOf(Math.max(...s));
      assert.ok(top >= 1500 && top < 1520, `seed ${seed}: strongest score at row ${top}`);
    }
  });

  it('refuses a configuration it cannot run', () => {
    assert.throws(() => new MultiScaleARTime({ probations: [300, 150] }), /ascending/);
    assert.throws(() => new MultiScaleARTime({ probations: [] }), /non-empty/);
    assert.throws(() => new MultiScaleARTime({ handover: 0 }), /handover > 0/);
  });
});
