/**
 * NAB's published detectors and ours, scored side by side on the series of a NAB-layout folder.
 *
 * NAB's repository (github.com/numenta/NAB) publishes every detector's results files as
 * `results/<detector>/<category>/<detector>_<series>.csv` (`timestamp,value,anomaly_score,label,…`);
 * `sluice demo anomaly --out DIR` writes `DIR/<category>/<series>.csv`. Point `--results` at a
 * folder holding one such folder per detector (both naming schemes are read; a folder that is
 * itself one detector's results is read as that one detector). Each detector's `anomaly_score`
 * column is scored exactly as the demo scores its own results: NAB's rules (`nab-scorer.ts`) over
 * every labelled series of `--nab`, one threshold per profile swept over all of them.
 *
 * A detector whose folder lacks a labelled series, or whose file for it has another number of rows,
 * other timestamps or no `anomaly_score` column, is skipped with the reason (on stderr), not scored
 * on fewer series. Rows are scored at the results file's own timestamps, as NAB and the demo do.
 *
 * @example
 * node --import tsx research/nab/leaderboard.ts --results /tmp/nab-results
 * node --import tsx research/nab/leaderboard.ts --results /tmp/nab-results --nab ~/NAB --json
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_NAB_DIR } from './paths.js';
import { SluiceError } from '../../src/index.js';
import {
  parseNabTimestamp,
  readLabelledSeries,
  readNabCorpus,
  type LabelledCorpus,
  type NabCorpus,
} from '../../src/apps/anomaly/nab-corpus.js';
import { optimizeThreshold, type NabResult, type ScoredSeries } from '../../src/apps/anomaly/nab-scorer.js';

/** One labelled series of the corpus (`name` is its relPath): where its results file should be and what it must hold. */
type LabelledSeries = LabelledCorpus['base'][number];

export interface LeaderboardRow {
  detector: string;
  /** Normalised NAB score per profile, 2 decimals (as `sluice demo anomaly` reports it). */
  scores: Record<string, number>;
  /** Threshold, TP / FP / FN and raw score behind each profile's figure. */
  detail: Record<string, NabResult>;
  /** Oddities of its files that did not stop the scoring. */
  notes: string[];
}

export interface Leaderboard {
  nab: string;
  results: string;
  series: number;
  windows: number;
  profiles: string[];
  /** Scored detectors, best standard score first. */
  rows: LeaderboardRow[];
  /** Detectors left out, and why. */
  skipped: { detector: string; reason: string }[];
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** The labelled series of a corpus, read once (their times check every detector's rows). */
function labelledSeries(corpus: NabCorpus): LabelledSeries[] {
  if (!corpus.windows)
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `${corpus.root} has no labels/combined_windows.json: nothing to score against`,
    );
  const out = readLabelledSeries(corpus).base;
  if (out.length === 0)
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `none of the series under ${join(corpus.root, 'data')} has labels in labels/combined_windows.json`,
    );
  return out;
}

/** The results file of one series in a detector's folder: `<detector>_<file>.csv` (NAB) or `<file>.csv` (ours). */
export function resultsFile(folder: string, detector: string, relPath: string): string | undefined {
  const slash = relPath.lastIndexOf('/');
  const dir = join(folder, relPath.slice(0, slash + 1));
  const file = relPath.slice(slash + 1);
  for (const name of [`${detector}_${file}`, file]) {
    const path = join(dir, name);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

/** A results file's timestamps and `anomaly_score` column (found by its header, wherever it is). */
export function readScores(path: string): { times: number[]; scores: number[] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const tsCol = header.indexOf('timestamp');
  const scoreCol = header.indexOf('anomaly_score');
  if (tsCol < 0 || scoreCol < 0)
    throw new Error(`${path}: no timestamp and anomaly_score columns in its header (${lines[0] ?? ''})`);
  const out = { times: [] as number[], scores: [] as number[] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const cells = line.split(',');
    const t = parseNabTimestamp(cells[tsCol] ?? '');
    const score = Number(cells[scoreCol]);
    if (!Number.isFinite(t) || cells[scoreCol] === undefined || cells[scoreCol] === '' || Number.isNaN(score))
      throw new Error(`${path}:${i + 1}: bad timestamp or anomaly_score: ${line}`);
    out.times.push(t);
    out.scores.push(score);
  }
  return out;
}

/** One detector's scored series, or why it cannot be scored on this corpus. */
function detectorSeries(
  folder: string,
  detector: string,
  series: LabelledSeries[],
): { series: ScoredSeries[]; notes: string[] } | { reason: string } {
  const out: ScoredSeries[] = [];
  const notes: string[] = [];
  for (const s of series) {
    const path = resultsFile(folder, detector, s.name);
    if (!path) {
      const file = s.name.slice(s.name.lastIndexOf('/') + 1);
      const dir = s.name.slice(0, s.name.lastIndexOf('/') + 1);
      return { reason: `no results for ${s.name} (${dir}${detector}_${file} or ${s.name})` };
    }
    let r: { times: number[]; scores: number[] };
    try {
      r = readScores(path);
    } catch (e) {
      return { reason: (e as Error).message };
    }
    if (r.times.length !== s.times.length)
      return { reason: `${path} has ${r.times.length} rows, the series ${s.times.length}` };
    const off = r.times.findIndex((t, i) => t !== s.times[i]);
    if (off >= 0) {
      // Same timestamps in another order (NAB's randomCutForest sorted the rows of
      // machine_temperature, whose data repeats an hour): scored with its own rows, as NAB does.
      const a = Float64Array.from(r.times).sort();
      const b = Float64Array.from(s.times).sort();
      const bad = a.findIndex((t, i) => t !== b[i]);
      if (bad >= 0) return { reason: `${path}: row ${off + 1}'s timestamp is not the series'` };
      let last = r.times.length - 1;
      while (r.times[last] === s.times[last]) last--;
      notes.push(
        `${s.name}: rows ${off + 1}-${last + 1} in another order than the data file (scored as written)`,
      );
    }
    out.push({ name: s.name, times: r.times, windows: s.windows, scores: r.scores });
  }
  return { series: out, notes };
}

/** Does `dir` hold results files directly (`<category>/<series>.csv`), i.e. is it one detector's folder? */
function holdsResults(dir: string, series: LabelledSeries[]): boolean {
  return series.some((s) => resultsFile(dir, basename(dir), s.name) !== undefined);
}

/** Scores every detector folder under `resultsDir` against the labelled series of `nabDir`. */
export function leaderboard(resultsDir: string, nabDir: string): Leaderboard {
  const root = resolve(resultsDir);
  if (!isDir(root)) throw new SluiceError('SLUICE_OPTION_INVALID', `--results ${resultsDir}: no such folder`);
  const corpus = readNabCorpus(nabDir);
  const series = labelledSeries(corpus);
  const folders = holdsResults(root, series)
    ? [root]
    : readdirSync(root)
        .sort()
        .map((name) => join(root, name))
        .filter(isDir);
  if (folders.length === 0)
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `--results ${resultsDir} holds no detector folders (expected <detector>/<category>/[<detector>_]<series>.csv)`,
    );
  const profiles = Object.keys(corpus.profiles);
  const rows: LeaderboardRow[] = [];
  const skipped: Leaderboard['skipped'] = [];
  for (const folder of folders) {
    const detector = basename(folder);
    const got = detectorSeries(folder, detector, series);
    if ('reason' in got) {
      skipped.push({ detector, reason: got.reason });
      continue;
    }
    // As the demo's scoreResults: one threshold per profile, swept over all series.
    const detail: Record<string, NabResult> = {};
    const scores: Record<string, number> = {};
    for (const [name, profile] of Object.entries(corpus.profiles)) {
      const r = optimizeThreshold(got.series, profile);
      detail[name] = { ...r, score: round(r.score), raw: round(r.raw, 4) };
      scores[name] = round(r.score);
    }
    rows.push({ detector, scores, detail, notes: got.notes });
  }
  const first = profiles.includes('standard') ? 'standard' : profiles[0]!;
  rows.sort((a, b) => b.scores[first]! - a.scores[first]! || a.detector.localeCompare(b.detector));
  return {
    nab: corpus.root,
    results: root,
    series: series.length,
    windows: series.reduce((n, s) => n + s.windows.length, 0),
    profiles,
    rows,
    skipped,
  };
}

/** The leaderboard as a Markdown table (the figures, then TP / FP / FN at the first profile's threshold). */
export function formatTable(board: Leaderboard): string {
  const first = board.profiles.includes('standard') ? 'standard' : board.profiles[0]!;
  const head = ['detector', ...board.profiles, `TP / FP / FN (${first})`, 'threshold'];
  const body = board.rows.map((r) => {
    const d = r.detail[first]!;
    return [
      r.detector,
      ...board.profiles.map((p) => r.scores[p]!.toFixed(2)),
      `${d.tp} / ${d.fp} / ${d.fn}`,
      Number.isFinite(d.threshold) ? String(round(d.threshold, 4)) : 'none',
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join(' | ')} |`;
  return [
    line(head),
    `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`,
    ...body.map(line),
  ].join('\n');
}

function main(): void {
  const { values: flags } = parseArgs({
    options: {
      results: { type: 'string' },
      nab: { type: 'string', default: DEFAULT_NAB_DIR },
      json: { type: 'boolean', default: false },
    },
  });
  if (flags.results === undefined)
    throw new SluiceError('SLUICE_OPTION_INVALID', '--results DIR is required (one folder per detector)');
  const board = leaderboard(flags.results, flags.nab!);
  for (const s of board.skipped) console.error(`skipped ${s.detector}: ${s.reason}`);
  for (const r of board.rows) for (const n of r.notes) console.error(`note ${r.detector}: ${n}`);
  if (flags.json) console.log(JSON.stringify(board));
  else {
    console.log(
      `${board.series} labelled series, ${board.windows} windows (${board.nab}); one threshold per profile over all of them`,
    );
    console.log(formatTable(board));
  }
  if (board.rows.length === 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(`leaderboard: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
