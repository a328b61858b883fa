import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RefractoryARTime } from '../../src/apps/anomaly/artime-refractory.js';
import { ARTimeDetector } from '../../src/apps/anomaly/artime.js';
import { runAnomalyDemo } from '../../src/apps/anomaly/demo.js';
import { sensorSeries } from '../helpers/sensor-series.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-anomaly-detector-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2015, 0, 1);
const STEP = 5 * 60_000;
const stamp = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

/** The anomaly_score column of a NAB results file. */
const resultScores = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[2]));

const N = 1600;
const SHIFT = 1200;

/** The results file of the level-shift series, checked for a first detection within 40 rows after the shift. */
function assertShiftDetected(out: string): number[] {
  const scores = resultScores(join(out, 'cat_a', 'level.csv'));
  const first = scores.findIndex((s, i) => i >= SHIFT && s > 0);
  assert.ok(first >= SHIFT && first <= SHIFT + 40, `first detection after the shift at row ${first}`);
  return scores;
}
const nab = join(tmp, 'nab');
before(() => {
  mkdirSync(join(nab, 'data', 'cat_a'), { recursive: true });
  const lines = sensorSeries(N, 7, { shiftAt: SHIFT }).map((v, i) => `${stamp(T0 + i * STEP)},${v}`);
  writeFileSync(join(nab, 'data', 'cat_a', 'level.csv'), ['timestamp,value', ...lines].join('\n') + '\n');
  mkdirSync(join(nab, 'labels'));
  const window = [stamp(T0 + (SHIFT - 40) * STEP), stamp(T0 + (SHIFT + 40) * STEP)];
  writeFileSync(
    join(nab, 'labels', 'combined_windows.json'),
    JSON.stringify({ 'cat_a/level.csv': [window] }),
  );
});

describe('sluice demo anomaly --detector', () => {
  it('RefractoryARTime is ARTime with a detection halved within 2 % of the rows after the previous one', () => {
    const values = sensorSeries(4000, 7, { shiftAt: 3000 }).map((v, i) =>
      i % 450 === 300 || i % 450 === 365 ? v + 80 : v,
    );
    const info = { min: Math.min(...values), max: Math.max(...values), length: values.length };
    const a = new ARTimeDetector(info);
    const r = new RefractoryARTime(info);
    let last = -Infinity;
    let damped = 0;
    let fired = 0;
    values.forEach((x, i) => {
      const s = a.update(T0 + i * STEP, x);
      const d = r.update(T0 + i * STEP, x);
      if (s > 0) {
        fired++;
        const inSpan = i - last <= 0.02 * values.length;
        assert.equal(d, inSpan ? 0.5 * s : s, `row ${i}`);
        if (inSpan) damped++;
        last = i;
      } else assert.equal(d, s, `row ${i}`);
    });
    assert.ok(fired >= 2, `ARTime fired ${fired} times`);
    assert.equal(r.rows, values.length);
    assert.ok(damped >= 1, `damped ${damped} of ${fired}`);
  });

  it('detects a synthetic level shift with artime-refractory, reports the detector in the JSON', async () => {
    const out = join(tmp, 'refractory');
    const r = await runAnomalyDemo({ nabDir: nab, outDir: out, detectorKind: 'artime-refractory' });
    assert.equal(r.detector, 'artime-refractory');
    assert.equal(r.processed, N);
    assert.equal(r.nab_detail!.standard!.tp, 1);
    assert.ok(r.nab!.standard! > 50, `standard ${r.nab!.standard}`);
    assertShiftDetected(out);
    const byDefault = await runAnomalyDemo({ nabDir: nab, outDir: join(tmp, 'default') });
    assert.equal(byDefault.detector, 'ensemble');
  });

  it('runs artime-online on a NAB folder and on a live source, told nothing up front', async () => {
    const out = join(tmp, 'online');
    const r = await runAnomalyDemo({ nabDir: nab, outDir: out, detectorKind: 'artime-online' });
    assert.equal(r.detector, 'artime-online');
    assert.equal(r.processed, N);
    assert.equal(r.nab_detail!.standard!.tp, 1);
    const scores = assertShiftDetected(out);
    // The same rows from a live source (no file to read a min, max or length from): same scores.
    const live = join(tmp, 'live.ndjson');
    const rows = sensorSeries(N, 7, { shiftAt: SHIFT }).map((v, i) =>
      JSON.stringify({ timestamp: stamp(T0 + i * STEP), value: v }),
    );
    writeFileSync(live, rows.join('\n') + '\n');
    const liveOut = join(tmp, 'online-live');
    const l = await runAnomalyDemo({ from: `file:${live}`, outDir: liveOut, detectorKind: 'artime-online' });
    assert.equal(l.processed, N);
    const liveScores = resultScores(join(liveOut, 'live.csv'));
    assert.deepEqual(liveScores, scores);
  });

  it('refuses an ARTime detector with a live --from source or --data, and unknown names (CLI and API)', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin/sluice.js'), 'demo', 'anomaly', ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    for (const kind of ['artime', 'artime-refractory']) {
      const p = cli('--from', 'file:/nonexistent.ndjson', '--detector', kind, '--json');
      assert.notEqual(p.status, 0);
      assert.match(p.stderr, /needs each series' minimum, maximum and length/);
      assert.match(p.stderr, /--detector ensemble, sluice or artime-online/);
      const d = cli('--nab', nab, '--data', join(tmp, 'data'), '--detector', kind);
      assert.notEqual(d.status, 0);
      assert.match(d.stderr, /cannot be checkpointed/);
    }
    const bad = cli('--nab', nab, '--detector', 'htm');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--detector: one of ensemble, sluice, artime-online, artime, artime-refractory/);
    await assert.rejects(
      runAnomalyDemo({ from: 'file:/nonexistent.ndjson', outDir: join(tmp, 'x'), detectorKind: 'artime' }),
      /needs each series' minimum, maximum and length/,
    );
  });
});
