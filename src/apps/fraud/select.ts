/**
 * Model selection for the fraud model, the handbook's way ("prequential validation"): the
 * hyperparameters are chosen on validation weeks carved from the training period only, each
 * validation week trained on the week before its own label-delay gap, exactly as the final
 * model is trained before the test week. Nothing here reads a row of the test period.
 */
import { SluiceError, days } from '../../index.js';
import { treeValue } from '../../inference/train/regression-tree.js';
import { averagePrecision, rocAuc, trainGradientBoostedTrees, trainLogisticRegression } from '../../train.js';
import type { FeatureMatrix } from './backfill.js';
import { MODEL_WIDTH } from './features.js';

const DAY_MS = days(1);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Half-open time ranges (epoch ms) of the training rows and of the held-out test rows. */
export interface TimeSplit {
  trainFrom: number;
  trainTo: number;
  testFrom: number;
  testTo: number;
}

/** One validation fold: train on [trainFrom, trainTo), validate on [validFrom, validTo). */
export interface Fold {
  trainFrom: number;
  trainTo: number;
  validFrom: number;
  validTo: number;
}

/** Rows of a matrix whose event time is in [from, to), copied out with their labels, cards and times. */
export function rowsBetween(
  m: FeatureMatrix,
  from: number,
  to: number,
): { X: Float64Array; y: Uint8Array; n: number; cards: Float64Array; times: Float64Array } {
  const rows: number[] = [];
  for (let i = 0; i < m.n; i++) if (m.ts[i]! >= from && m.ts[i]! < to) rows.push(i);
  const X = new Float64Array(rows.length * MODEL_WIDTH);
  const y = new Uint8Array(rows.length);
  const cards = new Float64Array(rows.length);
  const times = new Float64Array(rows.length);
  rows.forEach((r, k) => {
    X.set(m.X.subarray(r * MODEL_WIDTH, (r + 1) * MODEL_WIDTH), k * MODEL_WIDTH);
    y[k] = m.y[r]!;
    cards[k] = m.cards[r]!;
    times[k] = m.ts[r]!;
  });
  return { X, y, n: rows.length, cards, times };
}

/**
 * The validation folds of a split, newest first: fold k validates on the `testTo − testFrom`
 * long period ending k periods before the end of training, and trains on the period of the
 * split's training length that ends one label delay (`testFrom − trainTo`) before it, starting
 * no earlier than `earliest` (when the feature windows are full). Every fold ends by
 * `split.trainTo`: the test period is never read. Folds with no training day left are dropped.
 *
 * @example
 * // handbook: train 07-25..31, test 08-08..14 -> fold 0 trains 07-11..17, validates 07-25..31
 * const folds = validationFolds(split, { folds: 4, earliest: start + days(37) });
 */
export function validationFolds(split: TimeSplit, opts: { folds: number; earliest: number }): Fold[] {
  const validLen = split.testTo - split.testFrom;
  const gap = split.testFrom - split.trainTo;
  const trainLen = split.trainTo - split.trainFrom;
  const folds: Fold[] = [];
  for (let k = 0; k < opts.folds; k++) {
    const validTo = split.trainTo - k * validLen;
    const validFrom = validTo - validLen;
    const trainTo = validFrom - gap;
    const trainFrom = Math.max(opts.earliest, trainTo - trainLen);
    if (trainTo - trainFrom < DAY_MS) break;
    folds.push({ trainFrom, trainTo, validFrom, validTo });
  }
  return folds;
}

/** A model and its settings: what selection compares and what the final model is trained with. */
export type Candidate =
  | { model: 'lr'; l2: number; classWeight?: 'balanced' }
  | { model: 'gbt'; nEstimators: number; learningRate: number; maxDepth: number; minSamplesLeaf: number };

/**
 * The grid searched by `--select`. GBT tree counts are not trained one by one: each (depth,
 * learning rate, min leaf) is trained once with the most trees and scored after each count
 * (boosting is additive, so the first k trees are the k-tree model). 4,096 histogram bins
 * throughout: scenario 1 (amount > 220) is a sharp cut that coarse bins blur (64 bins: AP 0.52).
 */
export const SELECTION_GRID = {
  lr: { l2: [1e-6, 1e-5, 1e-4, 1e-3], classWeight: [undefined, 'balanced' as const] },
  gbt: {
    maxDepth: [3, 4, 5, 6],
    minSamplesLeaf: [20],
    /** Learning rate and the tree counts scored for it. */
    learningRate: [
      { rate: 0.1, trees: [50, 100, 150, 200, 300] },
      { rate: 0.05, trees: [100, 200, 300, 400, 500] },
    ],
  },
};
export type SelectionGrid = typeof SELECTION_GRID;

/** Histogram bins of every GBT (not searched). */
export const GBT_BINS = 4096;

/** Trains a candidate on rows; returns a batch scorer and the fit (for export). */
export function fitCandidate(
  c: Candidate,
  X: Float64Array,
  y: Uint8Array,
): {
  predict: (X: Float64Array, n: number) => Float64Array;
  lr?: ReturnType<typeof trainLogisticRegression>;
  gbt?: ReturnType<typeof trainGradientBoostedTrees>;
} {
  if (c.model === 'lr') {
    const lr = trainLogisticRegression(X, y, MODEL_WIDTH, { l2: c.l2, classWeight: c.classWeight });
    return { predict: (Xs, n) => lr.predictBatch(Xs, n), lr };
  }
  const { model: _model, ...o } = c;
  const gbt = trainGradientBoostedTrees(X, y, MODEL_WIDTH, { ...o, maxBins: GBT_BINS });
  return { predict: (Xs, n) => gbt.predictBatch(Xs, n), gbt };
}

/** Serving cost order for ties: LR first, then fewer tree levels scored per row. */
const cost = (c: Candidate) => (c.model === 'lr' ? 0 : c.nEstimators * c.maxDepth);

/** What selection ran and found; stored in the model card as `selection`. */
export interface Selection {
  metric: 'average_precision';
  rule: string;
  folds: { train: [string, string]; validate: [string, string]; trainRows: number; validationRows: number }[];
  candidates: number;
  chosen: Candidate;
  /** The chosen candidate's mean over the folds, and its AP per fold. */
  validation: { average_precision: number; roc_auc: number; average_precision_per_fold: number[] };
  /** The five best candidates by mean validation AP. */
  top: (Candidate & { average_precision: number })[];
}

/** Ties: candidates within this mean validation AP of the best count as equal; the cheapest wins. */
export const SELECTION_TOLERANCE = 0.001;

/**
 * Scores every candidate of `grid` for the given model kinds on every fold and picks the one
 * with the highest mean validation average precision (within {@link SELECTION_TOLERANCE}, the
 * cheapest to serve). Reads only rows inside the folds.
 *
 * @example
 * const sel = selectCandidate(matrix, validationFolds(split, { folds: 4, earliest }), ['lr', 'gbt']);
 * console.log(sel.chosen, sel.validation.average_precision);
 */
export function selectCandidate(
  m: FeatureMatrix,
  folds: Fold[],
  kinds: ('lr' | 'gbt')[],
  grid: SelectionGrid = SELECTION_GRID,
  log: (line: string) => void = () => {},
): Selection {
  if (folds.length === 0)
    throw new SluiceError('SLUICE_OPTION_INVALID', 'no validation fold fits before the training period');
  const scores = new Map<string, { c: Candidate; ap: number[]; auc: number[] }>();
  const record = (c: Candidate, s: Float64Array, y: Uint8Array) => {
    const key = JSON.stringify(c);
    const e = scores.get(key) ?? { c, ap: [], auc: [] };
    e.ap.push(averagePrecision(s, y));
    e.auc.push(rocAuc(s, y));
    scores.set(key, e);
  };
  const foldInfo: Selection['folds'] = [];
  for (const f of folds) {
    const train = rowsBetween(m, f.trainFrom, f.trainTo);
    const valid = rowsBetween(m, f.validFrom, f.validTo);
    foldInfo.push({
      train: [isoDay(f.trainFrom), isoDay(f.trainTo - 1)],
      validate: [isoDay(f.validFrom), isoDay(f.validTo - 1)],
      trainRows: train.n,
      validationRows: valid.n,
    });
    if (!train.y.includes(1) || !valid.y.includes(1) || !valid.y.includes(0))
      throw new SluiceError(
        'SLUICE_OPTION_INVALID',
        `validation fold ${foldInfo.at(-1)!.train.join('..')} / ${foldInfo.at(-1)!.validate.join('..')} has no frauds to train or validate on: use fewer --folds`,
      );
    if (kinds.includes('lr'))
      for (const l2 of grid.lr.l2)
        for (const classWeight of grid.lr.classWeight) {
          const c: Candidate = { model: 'lr', l2, ...(classWeight ? { classWeight } : {}) };
          record(c, fitCandidate(c, train.X, train.y).predict(valid.X, valid.n), valid.y);
        }
    if (kinds.includes('gbt'))
      for (const maxDepth of grid.gbt.maxDepth)
        for (const minSamplesLeaf of grid.gbt.minSamplesLeaf)
          for (const { rate, trees } of grid.gbt.learningRate) {
            const most = Math.max(...trees);
            const base = { model: 'gbt' as const, learningRate: rate, maxDepth, minSamplesLeaf };
            const { gbt } = fitCandidate({ ...base, nEstimators: most }, train.X, train.y);
            stagedMargins(gbt!, valid.X, valid.n, trees, (k, margin) =>
              record({ ...base, nEstimators: k }, margin, valid.y),
            );
          }
    log(`validation fold ${foldInfo.at(-1)!.validate.join('..')}: ${scores.size} candidates scored`);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const ranked = [...scores.values()]
    .map((e) => ({ ...e, meanAp: mean(e.ap) }))
    .sort((a, b) => b.meanAp - a.meanAp);
  const best = ranked[0]!.meanAp;
  const chosen = ranked
    .filter((e) => e.meanAp >= best - SELECTION_TOLERANCE)
    .sort((a, b) => cost(a.c) - cost(b.c) || b.meanAp - a.meanAp)[0]!;
  const r4 = (v: number) => Number(v.toFixed(4));
  return {
    metric: 'average_precision',
    rule: `highest mean validation AP over the folds; within ${SELECTION_TOLERANCE} of it, the cheapest to serve`,
    folds: foldInfo,
    candidates: ranked.length,
    chosen: chosen.c,
    validation: {
      average_precision: r4(chosen.meanAp),
      roc_auc: r4(mean(chosen.auc)),
      average_precision_per_fold: chosen.ap.map(r4),
    },
    top: ranked.slice(0, 5).map((e) => ({ ...e.c, average_precision: r4(e.meanAp) })),
  };
}

/** Margins of the first k trees for each k of `counts` (ascending); AP ranks margins as it ranks probabilities. */
function stagedMargins(
  fit: ReturnType<typeof trainGradientBoostedTrees>,
  X: Float64Array,
  n: number,
  counts: number[],
  each: (k: number, margin: Float64Array) => void,
): void {
  const margin = new Float64Array(n).fill(fit.baseScore);
  let t = 0;
  for (const k of counts) {
    for (; t < k; t++) for (let i = 0; i < n; i++) margin[i]! += treeValue(fit.trees[t]!, X, i * MODEL_WIDTH);
    each(k, margin);
  }
}
