/**
 * Trains the fraud model the handbook's way, on history generated with another seed than any
 * demo run: features from the same windows as the live pipeline, a logistic regression fitted
 * by our own trainer, exported to ONNX by our own exporter.
 */
import type { HistoryRange } from '../../connectors/history-source.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SluiceError, days, pipeline } from '../../index.js';
import {
  averagePrecision,
  exportLogisticRegression,
  exportTreeEnsembleClassifier,
  rocAuc,
} from '../../train.js';
import { collect, fromArray } from '../../testing.js';
import { backfillFraudFeatures, type FeatureMatrix } from './backfill.js';
import { cardPrecisionAtK } from './card-precision.js';
import { FEATURE_GROUPS, MODEL_INPUTS, MODEL_WIDTH, modelRow, type Tx } from './features.js';
import { HANDBOOK, TransactionGenerator } from './generator.js';
import { TRAINED_MODEL_FILE, cardPathFor, type FraudModelInfo } from './model-info.js';
import {
  GBT_BINS,
  fitCandidate,
  rowsBetween,
  selectCandidate,
  validationFolds,
  type Candidate,
  type Selection,
  type SelectionGrid,
  type TimeSplit,
} from './select.js';

export type { TimeSplit } from './select.js';

export interface TrainOptions {
  seed?: number;
  /** Days of history to generate. */
  days?: number;
  customers?: number;
  terminals?: number;
  /** Days at the start left out while the 30-day windows (and the 7-day label delay) fill. */
  warmupDays?: number;
  /** Days at the end kept for validation. */
  validationDays?: number;
  /** ONNX file to write (default fraud-model.onnx in the current directory: `TRAINED_MODEL_FILE`). */
  modelPath?: string;
  /** Its card (default beside it: the same name with .json). */
  infoPath?: string;
  log?: (line: string) => void;
  /**
   * `lr` (logistic regression, the default), `gbt` (gradient-boosted trees, ONNX
   * TreeEnsembleClassifier) or `auto` (both grids searched, the best validated kept; implies `select`).
   */
  model?: 'lr' | 'gbt' | 'auto';
  /** Choose the settings on validation folds inside the training period (`SELECTION_GRID`). */
  select?: boolean;
  /** Validation folds for `select` (default 4, fewer when the history is short). */
  folds?: number;
  /** The grid `select` searches (default `SELECTION_GRID`). */
  grid?: SelectionGrid;
  /**
   * `default`: train on the days after the warm-up, validate on the last `validationDays`.
   * `handbook`: the Fraud Detection Handbook's protocol: its population (5,000 customers,
   * 10,000 terminals, seed 0, from 2018-04-01), train on 2018-07-25..31, skip the 7 days whose
   * labels are not known yet, test on 2018-08-08..14.
   */
  protocol?: 'default' | 'handbook';
}

/** The handbook's split: training week start (day index from 2018-04-01), gap and test week. */
export const HANDBOOK_SPLIT = { trainStartDay: 115, trainDays: 7, gapDays: 7, testDays: 7 };

/**
 * The settings used without `select`. GBT: chosen earlier on one validation week as the fewest
 * trees within 0.01 validation AP of the best (every tree is paid on every scored row; the
 * inference benchmark's GBT). `--select` on the handbook history prefers 400 trees at 0.05
 * (mean validation AP 0.728 over 4 weeks, against 0.720 for these): docs/inference.md,
 * "Choosing the model".
 */
export const GBT_OPTIONS: Extract<Candidate, { model: 'gbt' }> = {
  model: 'gbt',
  nEstimators: 150,
  learningRate: 0.1,
  maxDepth: 3,
  minSamplesLeaf: 20,
};
export const LR_OPTIONS: Extract<Candidate, { model: 'lr' }> = { model: 'lr', l2: 1e-3 };

const defaultCandidate = (kind: 'lr' | 'gbt'): Candidate => (kind === 'gbt' ? GBT_OPTIONS : LR_OPTIONS);

/** The card's `hyperparameters`: the candidate's settings (and the GBT's bins). */
const hyperparameters = ({ model: _m, ...c }: Candidate): Record<string, number | string> =>
  _m === 'gbt' ? { ...c, maxBins: GBT_BINS } : c;

/** Runs selection when asked (`select`, or `model: 'auto'`), on folds that end with the training period. */
function chooseCandidate(
  m: FeatureMatrix,
  split: TimeSplit,
  opts: TrainOptions,
  earliest: number,
  log: (line: string) => void,
): Selection | undefined {
  const model = opts.model ?? 'lr';
  if (!opts.select && model !== 'auto') return undefined;
  const folds = validationFolds(split, { folds: opts.folds ?? 4, earliest });
  const kinds: ('lr' | 'gbt')[] = model === 'auto' ? ['lr', 'gbt'] : [model];
  const sel = selectCandidate(m, folds, kinds, opts.grid, log);
  log(
    `selected ${JSON.stringify(hyperparameters(sel.chosen))} (${sel.chosen.model}) of ${sel.candidates} candidates: mean validation AP ${sel.validation.average_precision} over ${folds.length} folds`,
  );
  return sel;
}

export const TRAIN_DEFAULTS = {
  seed: 1_000_003,
  days: 120,
  customers: 1000,
  terminals: 2000,
  warmupDays: 37,
  validationDays: 21,
};

/** Model input rows, labels and times of every transaction of a history, computed by the pipeline. */
export async function featureRows(txs: Tx[]): Promise<{ X: Float64Array; y: Uint8Array; ts: Float64Array }> {
  const out = collect<{ row: Float64Array; fraud: number; ts: number }>();
  await pipeline('fraud-features')
    .from(fromArray(txs, { eventTime: (t) => t.ts }))
    .eventTime((t) => t.ts)
    .features(FEATURE_GROUPS)
    .map((t) => ({ row: modelRow(t, t.features), fraud: t.fraud, ts: t.ts }))
    .to(out)
    .run({ batchSize: 4096 }).done;
  const n = out.values.length;
  const X = new Float64Array(n * MODEL_WIDTH);
  const y = new Uint8Array(n);
  const ts = new Float64Array(n);
  out.values.forEach((v, i) => {
    X.set(v.row, i * MODEL_WIDTH);
    y[i] = v.fraud;
    ts[i] = v.ts;
  });
  return { X, y, ts };
}

/** The threshold with the best F1 on (scores, labels). */
export function bestF1Threshold(scores: Float64Array, labels: Uint8Array): number {
  const idx = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!);
  const positives = labels.reduce((s, l) => s + l, 0);
  let tp = 0;
  let best = { f1: -1, threshold: 0.5 };
  for (let k = 0; k < idx.length; k++) {
    tp += labels[idx[k]!]!;
    const next = k + 1 < idx.length ? scores[idx[k + 1]!]! : -Infinity;
    if (next === scores[idx[k]!]) continue;
    const f1 = (2 * tp) / (k + 1 + positives);
    if (f1 > best.f1) best = { f1, threshold: scores[idx[k]!]! };
  }
  return best.threshold;
}

const DAY_MS = days(1);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The split of a user's history: `handbook` counts the handbook's days (train from day 115,
 * 7 days, a 7-day gap while labels are unknown, 7 test days) from the file's first UTC day, as
 * on the handbook's own 2018-04-01.. data; `default` ends the test days at the file's last day.
 */
export function inputSplit(
  firstTs: number,
  lastTs: number,
  protocol: 'default' | 'handbook',
  s: { trainDays: number; gapDays: number; testDays: number } = HANDBOOK_SPLIT,
): TimeSplit {
  const first = Math.floor(firstTs / DAY_MS) * DAY_MS;
  const end = Math.floor(lastTs / DAY_MS) * DAY_MS + DAY_MS;
  const trainFrom =
    protocol === 'handbook'
      ? first + days(HANDBOOK_SPLIT.trainStartDay)
      : end - days(s.trainDays + s.gapDays + s.testDays);
  const trainTo = trainFrom + days(s.trainDays);
  const testFrom = trainTo + days(s.gapDays);
  const split = { trainFrom, trainTo, testFrom, testTo: testFrom + days(s.testDays) };
  if (split.trainFrom < first || split.testTo > end)
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `the input covers ${isoDay(first)}..${isoDay(end - 1)}: too short for ${s.trainDays} training days, ${s.gapDays} delay days and ${s.testDays} test days` +
        (protocol === 'handbook' ? ` from day ${HANDBOOK_SPLIT.trainStartDay} (use --protocol default)` : ''),
    );
  return split;
}

/** First and last event time of a matrix (rows need not be sorted). */
function timeRange(m: FeatureMatrix): { first: number; last: number } {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < m.n; i++) {
    first = Math.min(first, m.ts[i]!);
    last = Math.max(last, m.ts[i]!);
  }
  return { first, last };
}

/**
 * Chooses the model (`select`, on validation folds inside the training period) or takes the
 * committed settings, trains it on rows in [trainFrom, trainTo), evaluates once on
 * [testFrom, testTo), writes ONNX + model card.
 */
function fitEvaluateExport(
  m: FeatureMatrix,
  split: TimeSplit,
  opts: TrainOptions,
  card: {
    training: FraudModelInfo['training'];
    protocol?: 'handbook';
    withCardPrecision: boolean;
    earliest: number;
  },
): FraudModelInfo {
  const log = opts.log ?? (() => {});
  const selection = chooseCandidate(m, split, opts, card.earliest, log);
  const chosen = selection?.chosen ?? defaultCandidate(opts.model === 'gbt' ? 'gbt' : 'lr');
  const train = rowsBetween(m, split.trainFrom, split.trainTo);
  const valid = rowsBetween(m, split.testFrom, split.testTo);
  if (train.n === 0 || valid.n === 0 || !train.y.includes(1))
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `no usable training or test rows (${train.n} training rows, ${valid.n} test rows, ${train.y.reduce((a, b) => a + b, 0)} frauds in training): the history needs labelled frauds in the training days`,
    );
  const fit = fitCandidate(chosen, train.X, train.y);
  const predict = fit.predict;
  const onnx = fit.gbt
    ? exportTreeEnsembleClassifier({ ...fit.gbt, name: 'fraud_gbt' })
    : exportLogisticRegression({ ...fit.lr!.standardized, name: 'fraud_lr' });
  log(
    fit.gbt
      ? `trained ${fit.gbt.trees.length} trees on ${train.n} rows`
      : `trained on ${train.n} rows in ${fit.lr!.iterations} Newton steps (converged: ${fit.lr!.converged})`,
  );
  const validScores = predict(valid.X, valid.n);
  const range = timeRange(m);
  const cp = cardPrecisionAtK(
    { scores: validScores, labels: valid.y, cards: valid.cards, times: valid.times },
    100,
  );
  const info: FraudModelInfo = {
    kind: chosen.model === 'gbt' ? 'gradient-boosted-trees' : 'logistic-regression',
    features: [...MODEL_INPUTS],
    hyperparameters: hyperparameters(chosen),
    threshold: Number(bestF1Threshold(predict(train.X, train.n), train.y).toFixed(6)),
    training: { ...card.training, trainRows: train.n, validationRows: valid.n },
    validation: {
      roc_auc: Number(rocAuc(validScores, valid.y).toFixed(4)),
      average_precision: Number(averagePrecision(validScores, valid.y).toFixed(4)),
      ...(card.withCardPrecision
        ? {
            card_precision_at_100: Number(cp.mean.toFixed(4)),
            card_precision_at_100_per_day: cp.perDay.map((p) => Number(p.toFixed(4))),
          }
        : {}),
    },
    data: {
      from: new Date(range.first).toISOString(),
      to: new Date(range.last).toISOString(),
      rows: m.n,
      train: [isoDay(split.trainFrom), isoDay(split.trainTo - 1)],
      test: [isoDay(split.testFrom), isoDay(Math.min(split.testTo, range.last + 1) - 1)],
      label_delay_days: (split.testFrom - split.trainTo) / DAY_MS,
    },
    ...(card.protocol ? { protocol: card.protocol } : {}),
    ...(selection ? { selection } : {}),
  };
  const modelPath = resolve(opts.modelPath ?? TRAINED_MODEL_FILE);
  const infoPath = resolve(opts.infoPath ?? cardPathFor(modelPath));
  mkdirSync(dirname(modelPath), { recursive: true }); // --out into a new folder
  writeFileSync(modelPath, onnx);
  writeFileSync(infoPath, JSON.stringify(info, null, 2) + '\n');
  log(`wrote ${modelPath} and its card ${infoPath}`);
  log(
    `${card.protocol ? 'test week' : 'held-out days'} ${info.data!.test.join('..')}: ROC-AUC ${info.validation.roc_auc}, AP ${info.validation.average_precision}` +
      `${info.validation.card_precision_at_100 === undefined ? '' : `, card precision@100 ${info.validation.card_precision_at_100}`}; alert threshold ${info.threshold}`,
  );
  return info;
}

/**
 * Trains the fraud model on a user's handbook-layout CSV (or a topic of the demo's transactions): backfills the demo's features over it
 * (optionally writing them as the training set CSV), splits by time, trains, exports.
 *
 * @example
 * const card = await trainFraudModelOnInput('transactions.csv', { model: 'gbt', protocol: 'handbook', modelPath: 'out/model.onnx', infoPath: 'out/model.json' });
 * console.log(card.validation.average_precision);
 */
export async function trainFraudModelOnInput(
  input: string,
  opts: TrainOptions & {
    featuresOut?: string;
    /** Topic inputs only: which records (offsets or times; see backfillFraudFeatures). */
    range?: HistoryRange;
    trainDays?: number;
    gapDays?: number;
    testDays?: number;
  } = {},
): Promise<FraudModelInfo> {
  const log = opts.log ?? (() => {});
  const set = await backfillFraudFeatures(input, { featuresOut: opts.featuresOut, range: opts.range });
  log(
    `backfilled the features of ${set.n} transactions from ${input}` +
      (set.deadLetters ? ` (${set.deadLetters} rows dropped, e.g. ${set.deadLetterReasons[0]})` : ''),
  );
  if (set.n === 0) throw new SluiceError('SLUICE_OPTION_INVALID', `${input} has no usable transaction rows`);
  const { first, last } = timeRange(set);
  const protocol = opts.protocol ?? 'default';
  const split = inputSplit(first, last, protocol, {
    trainDays: opts.trainDays ?? HANDBOOK_SPLIT.trainDays,
    gapDays: opts.gapDays ?? HANDBOOK_SPLIT.gapDays,
    testDays: opts.testDays ?? HANDBOOK_SPLIT.testDays,
  });
  return fitEvaluateExport(set, split, opts, {
    training: { input, trainRows: 0, validationRows: 0 },
    ...(protocol === 'handbook' ? { protocol: 'handbook' as const } : {}),
    withCardPrecision: true,
    // validation folds start once the 30-day windows and the 7-day delayed ones are full
    earliest: Math.floor(first / DAY_MS) * DAY_MS + days(TRAIN_DEFAULTS.warmupDays),
  });
}

/** Generates history, trains, exports (`modelPath`, default ./fraud-model.onnx); returns the card it wrote beside it. */
export async function trainFraudModel(opts: TrainOptions = {}): Promise<FraudModelInfo> {
  const handbook = opts.protocol === 'handbook';
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as TrainOptions;
  const o = handbook
    ? {
        ...TRAIN_DEFAULTS,
        seed: 0,
        customers: HANDBOOK.customers,
        terminals: HANDBOOK.terminals,
        days:
          HANDBOOK_SPLIT.trainStartDay +
          HANDBOOK_SPLIT.trainDays +
          HANDBOOK_SPLIT.gapDays +
          HANDBOOK_SPLIT.testDays,
        ...given,
      }
    : { ...TRAIN_DEFAULTS, ...given };
  const log = opts.log ?? (() => {});
  const gen = new TransactionGenerator({ seed: o.seed, customers: o.customers, terminals: o.terminals });
  const txs: Tx[] = [];
  for (let d = 0; d < o.days; d++) for (const t of gen.nextDay()) txs.push(t);
  log(`generated ${txs.length} transactions over ${o.days} days (seed ${o.seed})`);
  const { X, y, ts } = await featureRows(txs);
  const cards = Float64Array.from(txs, (t) => t.customerId);
  // Splits fall on UTC midnights, counted from the generator's first day (2018-04-01 for the handbook).
  const start = Math.floor(txs[0]!.ts / DAY_MS) * DAY_MS;
  const s = HANDBOOK_SPLIT;
  const trainFrom = start + days(handbook ? s.trainStartDay : o.warmupDays);
  const trainTo = handbook ? trainFrom + days(s.trainDays) : start + days(o.days - o.validationDays);
  const testFrom = handbook ? trainTo + days(s.gapDays) : trainTo;
  const testTo = testFrom + (handbook ? days(s.testDays) : days(o.validationDays));
  return fitEvaluateExport({ n: y.length, X, y, ts, cards }, { trainFrom, trainTo, testFrom, testTo }, opts, {
    training: {
      seed: o.seed,
      days: o.days,
      customers: o.customers,
      terminals: o.terminals,
      trainRows: 0,
      validationRows: 0,
    },
    ...(handbook ? { protocol: 'handbook' as const } : {}),
    withCardPrecision: handbook,
    earliest: start + days(handbook ? TRAIN_DEFAULTS.warmupDays : o.warmupDays),
  });
}
