import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OnlineAnomalyModel } from '../../src/apps/anomaly/anomaly-model.js';
import { MultiScaleARTime } from '../../src/apps/anomaly/artime-online.js';
import { ARTimeDetector } from '../../src/apps/anomaly/artime.js';
import { SeriesAnomalyDetector } from '../../src/apps/anomaly/detector.js';
import { ENSEMBLE_DEFAULTS, EnsembleDetector } from '../../src/apps/anomaly/ensemble.js';
import { decodeState, encodeState } from '../../src/apps/anomaly/state-codec.js';
import { sensorSeries } from '../helpers/sensor-series.js';

const STEP = 300_000;

interface Snapshotting {
  update(t: number, x: number): number;
  snapshot(): Uint8Array;
}

/** Scores with a snapshot/restore round trip (through an unaligned Buffer, as LMDB hands it back) at each cut. */
function scoresWithRestarts<D extends Snapshotting>(
  xs: number[],
  make: () => D,
  restore: (b: Uint8Array) => D,
  cuts: number[],
): { scores: number[]; last: D } {
  let d = make();
  const scores = xs.map((x, i) => {
    if (cuts.includes(i)) {
      const bytes = d.snapshot();
      const unaligned = Buffer.alloc(bytes.length + 1).subarray(1);
      unaligned.set(bytes);
      d = restore(unaligned);
    }
    return d.update(i * STEP, x);
  });
  return { scores, last: d };
}

describe('the ensemble detector (the anomaly demo default)', () => {
  it("is the larger of ARTime at several scales and a weighted share of this project's detector", () => {
    const xs = sensorSeries(3000, 11, { shiftAt: 2400, spikeEvery: [911, 500] });
    const multi = new MultiScaleARTime();
    const ours = new SeriesAnomalyDetector();
    const a = xs.map((x, i) => multi.update(i * STEP, x));
    const s = xs.map((x, i) => ours.update(i * STEP, x));
    const e = new EnsembleDetector();
    const got = xs.map((x, i) => e.update(i * STEP, x));
    const w = ENSEMBLE_DEFAULTS.oursWeight;
    assert.deepEqual(
      got,
      a.map((v, i) => Math.max(v, w * s[i]!)),
    );
    // Both parts matter on this series: some rows take ours' share, some ARTime's score.
    assert.ok(got.some((v, i) => v > 0 && v === w * s[i]! && v !== a[i]));
    assert.ok(got.some((v, i) => v > 0 && v === a[i]! && v !== w * s[i]!));
    assert.equal(e.rows, xs.length);
  });

  it('resumes from a snapshot exactly: the same scores, and the same snapshot bytes at the end', () => {
    const xs = sensorSeries(2500, 5, { shiftAt: 2000, spikeEvery: [911, 500] });
    const cuts = [100, 700, 1250, 1600];
    for (const [make, restore] of [
      [() => new EnsembleDetector(), (b: Uint8Array) => EnsembleDetector.restore(b)],
      [() => new MultiScaleARTime(), (b: Uint8Array) => MultiScaleARTime.restore(b)],
    ] as const) {
      const whole = scoresWithRestarts<Snapshotting>(xs, make, restore, []);
      const resumed = scoresWithRestarts<Snapshotting>(xs, make, restore, cuts);
      assert.deepEqual(resumed.scores, whole.scores);
      assert.ok(whole.scores.some((v) => v > 0));
      assert.deepEqual(Buffer.from(resumed.last.snapshot()), Buffer.from(whole.last.snapshot()));
    }
  });
});

describe('OnlineAnomalyModel checkpoints', () => {
  it('snapshots and restores through its scorer factory, and refuses where the scorers have no snapshots', () => {
    const model = new OnlineAnomalyModel(
      {},
      {
        create: () => new EnsembleDetector(),
        restore: (b) => EnsembleDetector.restore(b),
      },
    );
    const xs = sensorSeries(900, 3, { shiftAt: 800, spikeEvery: [911, 500] });
    const direct = new EnsembleDetector();
    xs.forEach((x, i) => {
      model.scorer(0).update(i * STEP, x);
      direct.update(i * STEP, x);
    });
    model.restoreScorer(1, model.snapshot(0));
    assert.equal(model.scorer(1).update(900 * STEP, 120), direct.update(900 * STEP, 120));
    assert.deepEqual(
      Buffer.from(model.snapshot(1)),
      Buffer.from(direct.snapshot()),
      'the restored scorer learned the row',
    );
    assert.notDeepEqual(Buffer.from(model.snapshot(1)), Buffer.from(model.snapshot(0)));
    const lookAhead = new OnlineAnomalyModel(
      {},
      { create: () => new ARTimeDetector({ min: 0, max: 1, length: 100 }) },
    );
    assert.throws(() => lookAhead.snapshot(0), /cannot be checkpointed/);
    assert.throws(() => lookAhead.restoreScorer(0, new Uint8Array()), /cannot restore/);
  });
});

describe('state codec (detector checkpoints)', () => {
  it('round-trips plain state, typed arrays and special numbers, from an unaligned buffer', () => {
    const state = {
      n: 3,
      x: -0.1,
      inf: -Infinity,
      nan: NaN,
      none: undefined,
      nothing: null,
      yes: true,
      name: 'remap ü',
      list: [1, [2, 'a'], { k: false }],
      f64: new Float64Array([0.5, Infinity]),
      i32: new Int32Array([-1, 7, 2 ** 30]),
      u8: new Uint8Array([255, 0]),
    };
    const bytes = encodeState(state);
    const unaligned = Buffer.alloc(bytes.length + 3).subarray(3);
    unaligned.set(bytes);
    const back = decodeState(unaligned) as typeof state;
    assert.deepEqual(back, state);
    assert.ok(back.i32 instanceof Int32Array && back.f64 instanceof Float64Array);
    assert.deepEqual(Buffer.from(encodeState(back)), Buffer.from(bytes), 'canonical: the same bytes again');
  });

  it('refuses what it cannot encode and bytes that are not a whole state', () => {
    assert.throws(() => encodeState({ f: () => 1 }), /cannot encode function at \.f/);
    const bytes = encodeState({ a: [1, 2, 3] });
    assert.throws(() => decodeState(bytes.subarray(0, bytes.length - 4)), /truncated/);
    assert.throws(() => decodeState(new Uint8Array([...bytes, 0])), /left over/);
  });
});
