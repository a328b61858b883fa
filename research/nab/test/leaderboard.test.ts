import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatTable, leaderboard } from '../leaderboard.js';

const root = new URL('../../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-leaderboard-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const N = 200; // rows per series: probation 30
const T0 = Date.UTC(2015, 0, 1);
const stamp = (i: number) => new Date(T0 + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
/** Two series with their anomaly windows as row ranges. */
const SERIES: Record<string, [number, number][]> = {
  'cat_a/one.csv': [[100, 119]],
  'cat_b/two.csv': [
    [60, 69],
    [150, 169],
  ],
};
const nab = join(tmp, 'nab');

/** A results file: `naming` 'nab' writes NAB's layout and columns, 'sluice' the demo's. */
function writeResults(
  dir: string,
  detector: string,
  rel: string,
  fires: (row: number) => boolean,
  naming: 'nab' | 'sluice',
  rows = N,
): void {
  const [cat, file] = rel.split('/') as [string, string];
  mkdirSync(join(dir, detector, cat), { recursive: true });
  const name = naming === 'nab' ? `${detector}_${file}` : file;
  const lines = Array.from({ length: rows }, (_, i) => {
    const score = fires(i) ? '1.0' : '0.0';
    // NAB's files: anomaly_score is not the last column.
    return naming === 'nab' ? `${stamp(i)},${i},${score},0,0.0,0.0,0.0` : `${stamp(i)},${i},${score}`;
  });
  const header =
    naming === 'nab'
      ? 'timestamp,value,anomaly_score,label,S(t)_reward_low_FP_rate,S(t)_reward_low_FN_rate,S(t)_standard'
      : 'timestamp,value,anomaly_score';
  writeFileSync(join(dir, detector, cat, name), [header, ...lines].join('\n') + '\n');
}

const inside = (rel: string) => (i: number) => SERIES[rel]!.some(([a]) => i === a); // first row of each window
const outside = (rel: string) => (i: number) =>
  i >= 40 && i % 25 === 0 && !SERIES[rel]!.some(([a, b]) => i >= a - 5 && i <= b + 5);

before(() => {
  const windows: Record<string, [string, string][]> = {};
  for (const [rel, list] of Object.entries(SERIES)) {
    mkdirSync(join(nab, 'data', rel.split('/')[0]!), { recursive: true });
    const lines = Array.from({ length: N }, (_, i) => `${stamp(i)},${i}`);
    writeFileSync(join(nab, 'data', rel), ['timestamp,value', ...lines].join('\n') + '\n');
    windows[rel] = list.map(([a, b]) => [stamp(a), stamp(b)]);
  }
  mkdirSync(join(nab, 'labels'));
  writeFileSync(join(nab, 'labels', 'combined_windows.json'), JSON.stringify(windows));

  const results = join(tmp, 'results');
  for (const rel of Object.keys(SERIES)) {
    writeResults(results, 'good', rel, inside(rel), 'nab');
    writeResults(results, 'bad', rel, outside(rel), 'sluice');
    writeResults(
      results,
      'mixed',
      rel,
      (i) => inside(rel)(i) || outside(rel)(i),
      rel.startsWith('cat_a') ? 'nab' : 'sluice',
    );
  }
  // Broken detectors: a series missing, a short file, no anomaly_score column.
  writeResults(results, 'partial', 'cat_a/one.csv', inside('cat_a/one.csv'), 'nab');
  writeResults(results, 'short', 'cat_a/one.csv', inside('cat_a/one.csv'), 'sluice');
  writeResults(results, 'short', 'cat_b/two.csv', inside('cat_b/two.csv'), 'sluice', N - 1);
  writeResults(results, 'nocolumn', 'cat_a/one.csv', inside('cat_a/one.csv'), 'sluice');
  mkdirSync(join(results, 'nocolumn', 'cat_b'), { recursive: true });
  writeFileSync(join(results, 'nocolumn', 'cat_b', 'two.csv'), `timestamp,value,score\n${stamp(0)},0,0\n`);
  mkdirSync(join(tmp, 'empty'));
});

describe('research/nab/leaderboard.ts', () => {
  it('scores every detector folder with NAB rules, both file namings, best standard score first', () => {
    const board = leaderboard(join(tmp, 'results'), nab);
    assert.equal(board.series, 2);
    assert.equal(board.windows, 3);
    assert.deepEqual(
      board.rows.map((r) => r.detector),
      ['good', 'mixed', 'bad'],
    );
    const [good, mixed, bad] = board.rows as [
      (typeof board.rows)[0],
      (typeof board.rows)[0],
      (typeof board.rows)[0],
    ];
    for (const p of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
      assert.equal(good.scores[p], 100, `first row of every window is perfect (${p})`);
      assert.ok(good.scores[p]! > mixed.scores[p]! && mixed.scores[p]! > bad.scores[p]!, p);
      assert.ok(bad.scores[p]! <= 0, `firing only outside the windows never beats the null detector (${p})`);
    }
    assert.deepEqual(
      [good.detail.standard!.tp, good.detail.standard!.fp, good.detail.standard!.fn],
      [3, 0, 0],
    );
    assert.ok(mixed.detail.standard!.fp > 0);
    assert.match(formatTable(board), /\| good +\| +100\.00 \|/);
  });

  it('skips a detector with a missing series, other rows or no anomaly_score column, saying why', () => {
    const board = leaderboard(join(tmp, 'results'), nab);
    const why = Object.fromEntries(board.skipped.map((s) => [s.detector, s.reason]));
    assert.deepEqual(Object.keys(why).sort(), ['nocolumn', 'partial', 'short']);
    assert.match(why.partial!, /no results for cat_b\/two\.csv/);
    assert.match(why.short!, /199 rows, the series 200/);
    assert.match(why.nocolumn!, /anomaly_score/);
  });

  it('scores rows written in another order at their own timestamps, with a note', () => {
    const dir = join(tmp, 'reordered');
    for (const rel of Object.keys(SERIES)) writeResults(dir, 'r', rel, inside(rel), 'sluice');
    const path = join(dir, 'r', 'cat_a', 'one.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    [lines[51], lines[52]] = [lines[52]!, lines[51]!]; // rows 51 and 52 swapped
    writeFileSync(path, lines.join('\n'));
    const board = leaderboard(dir, nab);
    assert.equal(board.rows[0]!.scores.standard, 100);
    assert.deepEqual(board.rows[0]!.notes, [
      'cat_a/one.csv: rows 51-52 in another order than the data file (scored as written)',
    ]);
  });

  it('reads a folder that is one detector’s results as that detector', () => {
    const board = leaderboard(join(tmp, 'results', 'bad'), nab);
    assert.deepEqual(
      board.rows.map((r) => r.detector),
      ['bad'],
    );
  });

  it('refuses a missing or empty results folder and a corpus without labels', () => {
    assert.throws(() => leaderboard(join(tmp, 'nope'), nab), /no such folder/);
    assert.throws(() => leaderboard(join(tmp, 'empty'), nab), /holds no detector folders/);
    const unlabelled = join(tmp, 'unlabelled');
    mkdirSync(join(unlabelled, 'data', 'cat_a'), { recursive: true });
    writeFileSync(join(unlabelled, 'data', 'cat_a', 'one.csv'), `timestamp,value\n${stamp(0)},1\n`);
    assert.throws(() => leaderboard(join(tmp, 'results'), unlabelled), /no labels/);
  });

  it('runs as a script: JSON with --json, skipped detectors on stderr, a clear error otherwise', () => {
    const script = join(root, 'research', 'nab', 'leaderboard.ts');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, encoding: 'utf8' });
    const ok = run('--results', join(tmp, 'results'), '--nab', nab, '--json');
    assert.equal(ok.status, 0, ok.stderr);
    const json = JSON.parse(ok.stdout) as { rows: { detector: string; scores: Record<string, number> }[] };
    assert.equal(json.rows[0]!.detector, 'good');
    assert.match(ok.stderr, /skipped partial: no results for cat_b\/two\.csv/);
    const table = run('--results', join(tmp, 'results'), '--nab', nab);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /2 labelled series, 3 windows/);
    const missing = run('--results', join(tmp, 'nope'), '--nab', nab);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /leaderboard: --results .*nope: no such folder/);
    const noFlag = run('--nab', nab);
    assert.equal(noFlag.status, 1);
    assert.match(noFlag.stderr, /--results DIR is required/);
  });
});
