/**
 * Cross-validated NAB score of the detector: how well its knobs generalise to series they were
 * not tuned on. Protocol (fixed before any tuning):
 *
 * 1. Every candidate configuration of `GRID` scores every series once (the detector alone, on
 *    the float32 values and 6-decimal scores the demo's pipeline and results files see).
 * 2. Folds: leave one series out (default) or leave one category out (`--folds category`).
 *    For each fold, the candidate with the best standard-profile NAB score on the training
 *    series wins (ties: the earlier one), and each profile's threshold is the one NAB's sweep
 *    picks on those training series, with that candidate.
 * 3. The held-out series are scored with the fold's candidate and thresholds; their raw scores
 *    are summed over the folds and normalised with the bounds of the whole corpus (`strict`).
 *    `nab_threshold` instead pools the held-out scores and lets NAB's sweep choose one threshold
 *    per profile over them, as NAB does for any detector (the threshold then sees the labels,
 *    the detector's knobs still do not).
 *
 * Prints one JSON object: the CV scores, the candidate each fold chose, and every candidate's
 * in-sample score on all series.
 *
 * `--detector artime` runs the same protocol on ARTime (`artime.ts`), which has no knobs: one
 * candidate, so each fold only chooses the thresholds.
 *
 * @example
 * npx tsx research/nab/cv.ts                      # ../shared/data/nab, leave one series out
 * npx tsx research/nab/cv.ts --folds category --nab ~/NAB
 * npx tsx research/nab/cv.ts --detector artime
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_NAB_DIR } from './paths.js';
import { ARTimeDetector } from '../../src/apps/anomaly/artime.js';
import {
  DETECTOR_DEFAULTS,
  SeriesAnomalyDetector,
  type DetectorConfig,
} from '../../src/apps/anomaly/detector.js';
import { readLabelledSeries, readNabCorpus, type NabProfile } from '../../src/apps/anomaly/nab-corpus.js';
import {
  nabBounds,
  optimizeThreshold,
  rawScore,
  type ScoredSeries,
} from '../../src/apps/anomaly/nab-scorer.js';
import { formatScore } from '../../src/apps/anomaly/results-writer.js';

/** Every combination of the listed values, on top of the defaults. */
function product(axes: { [K in keyof DetectorConfig]?: DetectorConfig[K][] }): Partial<DetectorConfig>[] {
  let out: Partial<DetectorConfig>[] = [{}];
  for (const [key, values] of Object.entries(axes))
    out = out.flatMap((c) => (values as number[]).map((v) => ({ ...c, [key]: v })));
  return out;
}

/** The candidates CV chooses among: the knobs that shape which rows fire. */
export const GRID: Partial<DetectorConfig>[] = product({
  combine: [2, 3, 4],
  suppressMargin: [0.2, 0.3, 0.5],
  hold: [3, 6, 12],
  suppressRows: [100, 200, 400],
});

/** A series' scores as the demo's results files hold them. */
export function scoreSeries(config: Partial<DetectorConfig>, times: number[], values: number[]): number[] {
  const d = new SeriesAnomalyDetector(config);
  // The pipeline hands the model float32 values and writes 6-decimal scores.
  return values.map((v, i) => Number(formatScore(d.update(times[i]!, Math.fround(v)))));
}

/**
 * A series' ARTime scores as results files would hold them, told the series' min, max and
 * length up front as NAB's runner tells every detector.
 */
export function scoreSeriesARTime(times: number[], values: number[]): number[] {
  const xs = values.map((v) => Math.fround(v));
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const d = new ARTimeDetector({ min, max, length: xs.length });
  return xs.map((x, i) => Number(formatScore(d.update(times[i]!, x))));
}

interface Fold {
  test: number[];
  train: number[];
}

function folds(groups: string[]): Fold[] {
  const all = groups.map((_, i) => i);
  return [...new Set(groups)].map((g) => ({
    test: all.filter((i) => groups[i] === g),
    train: all.filter((i) => groups[i] !== g),
  }));
}

export interface CvResult {
  folds: number;
  /** Held-out raw scores at thresholds chosen on the training series, normalised over the corpus. */
  strict: Record<string, number>;
  /** Held-out scores pooled, one threshold per profile swept over them (NAB's own way). */
  nab_threshold: Record<string, number>;
  /** Per fold: held-out series and the index in `GRID` chosen on the others. */
  chosen: { test: string[]; candidate: number }[];
}

/** Runs the protocol of the file comment over `scores[candidate][series]`. */
export function crossValidate(
  base: Omit<ScoredSeries, 'scores'>[],
  scores: number[][][],
  groups: string[],
  profiles: Record<string, NabProfile>,
): CvResult {
  const with_ = (c: number, ids: number[]) => ids.map((i) => ({ ...base[i]!, scores: scores[c]![i]! }));
  const raw: Record<string, number> = {};
  const pooled: ScoredSeries[] = [];
  const chosen: CvResult['chosen'] = [];
  for (const fold of folds(groups)) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < scores.length; c++) {
      const s = optimizeThreshold(with_(c, fold.train), profiles.standard!).score;
      if (s > bestScore + 1e-9) [best, bestScore] = [c, s];
    }
    chosen.push({ test: fold.test.map((i) => base[i]!.name), candidate: best });
    pooled.push(...with_(best, fold.test));
    for (const [name, p] of Object.entries(profiles)) {
      const { threshold } = optimizeThreshold(with_(best, fold.train), p);
      for (const s of with_(best, fold.test)) raw[name] = (raw[name] ?? 0) + rawScore(s, p, threshold).raw;
    }
  }
  const strict: Record<string, number> = {};
  const nabThreshold: Record<string, number> = {};
  for (const [name, p] of Object.entries(profiles)) {
    const b = nabBounds(base, p);
    strict[name] = round((100 * (raw[name]! - b.none)) / (b.perfect - b.none));
    nabThreshold[name] = round(optimizeThreshold(pooled, p).score);
  }
  return { folds: chosen.length, strict, nab_threshold: nabThreshold, chosen };
}

const round = (x: number) => Number(x.toFixed(2));

function main(): void {
  const { values: flags } = parseArgs({
    options: {
      nab: { type: 'string', default: DEFAULT_NAB_DIR },
      folds: { type: 'string', default: 'series' },
      detector: { type: 'string', default: 'sluice' },
    },
  });
  if (flags.detector !== 'sluice' && flags.detector !== 'artime')
    throw new Error(`--detector: sluice or artime, not ${flags.detector}`);
  const corpus = readNabCorpus(flags.nab!);
  const { labelled, data, base } = readLabelledSeries(corpus);
  const groups = labelled.map((s) => (flags.folds === 'category' ? s.relPath.split('/')[0]! : s.relPath));
  const started = Date.now();
  const artime = flags.detector === 'artime';
  const scores = artime
    ? [data.map((d) => scoreSeriesARTime(d.times, d.values))]
    : GRID.map((c) => data.map((d) => scoreSeries(c, d.times, d.values)));
  const cv = crossValidate(base, scores, groups, corpus.profiles);
  const inSample = (c: number) =>
    Object.fromEntries(
      Object.entries(corpus.profiles).map(([name, p]) => [
        name,
        round(
          optimizeThreshold(
            base.map((b, i) => ({ ...b, scores: scores[c]![i]! })),
            p,
          ).score,
        ),
      ]),
    );
  if (artime) {
    const all = inSample(0);
    const elapsed = round((Date.now() - started) / 1000);
    console.log(
      JSON.stringify({
        detector: 'artime',
        series: labelled.length,
        folds_by: flags.folds,
        cv,
        all_series: all,
        elapsed_s: elapsed,
      }),
    );
    return;
  }
  const defaults = GRID.findIndex((c) =>
    Object.entries(c).every(([k, v]) => DETECTOR_DEFAULTS[k as keyof DetectorConfig] === v),
  );
  const candidates = GRID.map((config, c) => ({ config, all_series: inSample(c) }));
  console.log(
    JSON.stringify({
      series: labelled.length,
      folds_by: flags.folds,
      candidates: GRID.length,
      cv,
      defaults: { candidate: defaults, all_series: defaults >= 0 ? inSample(defaults) : null },
      best_in_sample: candidates.reduce((a, b) => (b.all_series.standard! > a.all_series.standard! ? b : a)),
      elapsed_s: round((Date.now() - started) / 1000),
      grid: candidates,
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
