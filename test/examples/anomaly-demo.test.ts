import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OnlineAnomalyModel, anomalyRow } from '../../src/apps/anomaly/anomaly-model.js';
import { runAnomalyDemo } from '../../src/apps/anomaly/demo.js';
import { SeriesAnomalyDetector } from '../../src/apps/anomaly/detector.js';
import { float32Tensor } from '../../src/inference/index.js';
import { sensorSeries } from '../helpers/sensor-series.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-anomaly-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2015, 0, 1);
const STEP = 5 * 60_000;
const stamp = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

const N = 1600;
const nab = join(tmp, 'nab');
before(() => {
  const files: [string, [number, 'shift' | 'spikes']][] = [
    ['cat_a/level.csv', [1200, 'shift']],
    ['cat_b/bursts.csv', [1100, 'spikes']],
  ];
  const windows: Record<string, [string, string][]> = {};
  for (const [rel, anomaly] of files) {
    mkdirSync(join(nab, 'data', rel.split('/')[0]!), { recursive: true });
    const values = sensorSeries(
      N,
      rel.length,
      anomaly[1] === 'shift' ? { shiftAt: anomaly[0] } : { spikesAt: anomaly[0] },
    );
    const lines = values.map((v, i) => `${stamp(T0 + i * STEP)},${v}`);
    writeFileSync(join(nab, 'data', rel), ['timestamp,value', ...lines].join('\n') + '\n');
    windows[rel] = [[stamp(T0 + (anomaly[0] - 40) * STEP), stamp(T0 + (anomaly[0] + 40) * STEP)]];
  }
  mkdirSync(join(nab, 'labels'));
  writeFileSync(join(nab, 'labels', 'combined_windows.json'), JSON.stringify(windows));
});

describe('sluice demo anomaly', () => {
  it('streams every series, writes NAB results files and scores them for the three profiles', async () => {
    const out = join(tmp, 'results');
    const r = await runAnomalyDemo({ nabDir: nab, outDir: out });
    assert.equal(r.detector, 'ensemble', 'the default detector');
    assert.equal(r.series, 2);
    assert.equal(r.processed, 2 * N);
    assert.equal(r.dead_letters, 0);
    assert.ok(r.inference.calls >= 2, 'the model is called per batch, through the batcher');
    for (const rel of ['cat_a/level.csv', 'cat_b/bursts.csv']) {
      const lines = readFileSync(join(out, rel), 'utf8').trim().split('\n');
      assert.equal(lines[0], 'timestamp,value,anomaly_score');
      assert.equal(lines.length, N + 1);
      assert.match(lines[1]!, /^2015-01-01 00:00:00,[\d.]+,0\.000000$/);
      for (const l of lines.slice(1)) {
        const s = Number(l.split(',')[2]);
        assert.ok(s >= 0 && s <= 1, l);
      }
    }
    assert.deepEqual(Object.keys(r.nab!).sort(), ['reward_low_FN_rate', 'reward_low_FP_rate', 'standard']);
    // Both injected anomalies are found inside their windows at the optimised threshold.
    assert.equal(r.nab_detail!.standard!.tp, 2);
    assert.ok(r.nab!.standard! > 50, `standard ${r.nab!.standard}`);
    assert.ok(r.alerts > 0);
  });

  it('runs from the CLI with --nab/--out/--json and prints nab.* in one JSON line', () => {
    const out = join(tmp, 'cli');
    const p = spawnSync(
      process.execPath,
      [join(root, 'bin/sluice.js'), 'demo', 'anomaly', '--nab', nab, '--out', out, '--json'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(p.status, 0, p.stderr);
    const lines = p.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const r = JSON.parse(lines[0]!);
    for (const k of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'])
      assert.equal(typeof r.nab[k], 'number');
    const bad = spawnSync(process.execPath, [join(root, 'bin/sluice.js'), 'demo', 'anomaly', '--nab', tmp], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /has no data\/ folder/);
  });

  it('scores one live series from a source URL (--from), without NAB scores', async () => {
    const path = join(tmp, 'line1.ndjson');
    const values = sensorSeries(600, 9, { shiftAt: 500 });
    writeFileSync(
      path,
      values.map((v, i) => JSON.stringify({ timestamp: stamp(T0 + i * STEP), value: v })).join('\n') + '\n',
    );
    const out = join(tmp, 'live');
    const r = await runAnomalyDemo({ from: `file:${path}`, outDir: out });
    assert.equal(r.processed, 600);
    assert.equal(r.nab, null);
    assert.equal(readFileSync(join(out, 'line1.csv'), 'utf8').trim().split('\n').length, 601);
  });

  it('has no look-ahead: a prefix of a series scores the same whatever follows', () => {
    const values = sensorSeries(900, 3, { shiftAt: 700 });
    const full = new SeriesAnomalyDetector();
    const a = values.map((v, i) => full.update(T0 + i * STEP, v));
    const prefix = new SeriesAnomalyDetector();
    const b = values.slice(0, 750).map((v, i) => prefix.update(T0 + i * STEP, v));
    assert.deepEqual(a.slice(0, 750), b);
  });

  it('keeps one detector per series behind the Model interface', async () => {
    const model = new OnlineAnomalyModel();
    assert.equal(model.idempotent, false);
    const rows = new Float32Array(8);
    rows.set(anomalyRow(0, T0, 1.5), 0);
    rows.set(anomalyRow(1, T0, 2.5), 4);
    const out = await model.run({ features: float32Tensor(rows, [2, 4]) });
    assert.deepEqual(out.score!.dims, [2, 1]);
    assert.equal(model.series, 2);
    await assert.rejects(
      model.run({ features: float32Tensor(new Float32Array(3), [1, 3]) }),
      /expects dims \[N,4\]/,
    );
    await model.close();
  });
});
