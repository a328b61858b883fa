/**
 * `sluice train PIPELINE.ts`: trains a model on a history with the features a pipeline file
 * computes online. The file default-exports its feature stages (the contract below); the
 * stages run over the history in event time (a backfill: the same lookback windows and state
 * code as the live `.features()` stage, so no row sees the future), the rows are labelled with
 * a field of the record, written as a training set CSV, split by time (a held-out tail after a
 * label-delay gap), and a logistic regression, gradient-boosted trees or an MLP is trained and
 * exported to ONNX with a model card JSON beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SluiceError, days, pipeline, type LookbackSpec } from '../index.js';
import { historySource, lookbackHorizon, type HistoryRange } from '../connectors/history-source.js';
import { openTrainingSet } from './training-set.js';
import { MemoryDeadLetters } from '../testing.js';
import {
  averagePrecision,
  exportLogisticRegression,
  exportMlp,
  exportTreeEnsembleClassifier,
  rocAuc,
  trainGradientBoostedTrees,
  trainLogisticRegression,
  trainMlp,
} from '../train.js';
import { bestF1Threshold } from './fraud/train.js';

type Row = Record<string, unknown>;

/**
 * What a pipeline file default-exports for `sluice train`: the same `eventTime` function and
 * `features` record its live pipeline passes to `.eventTime()` and `.features()`.
 *
 * @example
 * export default {
 *   name: 'fraud',
 *   eventTime: (r) => Date.parse(r.TX_DATETIME + 'Z'),
 *   recordFeatures: { TX_AMOUNT: (r) => r.TX_AMOUNT },
 *   features: { customer: lookback({ key: (r) => r.CUSTOMER_ID, windows: [days(1)], aggregate: { NB_TX: count() } }) },
 * } satisfies TrainingPipeline;
 */
export interface TrainingPipeline<T extends object = Row> {
  /** Names the model (default: the file's name). */
  name?: string;
  /**
   * The pipeline's record from a history row (a CSV row by its header, or an NDJSON line, as an
   * object); undefined drops the row (counted). Default: the row itself.
   */
  fromRow?: (row: Row) => T | undefined;
  /** Event time (epoch ms) of a record. */
  eventTime: (r: T) => number;
  /** The lookback feature stages, as given to `.features()` online. */
  features: Record<string, LookbackSpec<T>>;
  /** Model inputs read from the record itself, placed before the window features. */
  recordFeatures?: Record<string, (r: T) => number>;
}

export interface TrainPipelineOptions {
  /** A CSV/NDJSON file, or a topic: `log:DIR/topic`, `kafka://host:port/topic`. */
  input: string;
  /**
   * Topics only: which records (see {@link HistoryRange}). With `fromTime` the read starts the
   * feature stages' lookback horizon earlier, to warm their state, and only rows whose event
   * time is >= fromTime (and < toTime) go into the training set.
   */
  range?: HistoryRange;
  /** Training set format: 'csv' or 'parquet' (default: from the path's extension). */
  trainingSetFormat?: string;
  /** Field of the record (after `fromRow`) holding the 0/1 label. */
  label: string;
  model?: 'lr' | 'gbt' | 'mlp';
  /** Share of the history's time span held out at the end for the metrics (default 0.2). */
  testFraction?: number;
  /** Days before the held-out part left out of training: their labels are not known yet (default 0). */
  labelDelayDays?: number;
  modelPath: string;
  cardPath: string;
  trainingSetPath: string;
  log?: (line: string) => void;
}

export interface PipelineModelCard {
  name: string;
  kind: 'logistic-regression' | 'gradient-boosted-trees' | 'mlp';
  label: string;
  features: string[];
  threshold: number;
  data: {
    input: string;
    from: string;
    to: string;
    rows: number;
    train: [string, string];
    test: [string, string];
  };
  training: { rows: number; positives: number; labelDelayDays: number; dropped: number };
  validation: { rows: number; positives: number; roc_auc: number; average_precision: number };
  trainingSet: string;
}

const labelOf = (v: unknown): number | undefined =>
  v === 1 || v === true || v === '1' ? 1 : v === 0 || v === false || v === '0' ? 0 : undefined;

/**
 * Backfills the pipeline's features over `input` (CSV or NDJSON), writes the training set,
 * trains and exports; returns the model card (also written to `cardPath`).
 *
 * @example
 * const spec = (await import('./fraud-features.ts')).default;
 * const card = await trainPipeline(spec, { input: 'history.csv', label: 'TX_FRAUD', model: 'gbt',
 *   modelPath: 'fraud.onnx', cardPath: 'fraud.json', trainingSetPath: 'fraud.training.csv' });
 */
export async function trainPipeline<T extends object>(
  spec: TrainingPipeline<T>,
  opts: TrainPipelineOptions,
): Promise<PipelineModelCard> {
  const log = opts.log ?? (() => {});
  const recordFeatures: [string, (r: T) => number][] = Object.entries(spec.recordFeatures ?? {});
  const rows: { ts: number; label: number; row: number[] }[] = [];
  const deadLetters = new MemoryDeadLetters();
  let unlabelled = 0;
  let unconverted = 0;
  const labelIn = (r: T) => labelOf((r as Row)[opts.label]);
  const { fromTime, toTime } = opts.range ?? {};
  const readRange =
    fromTime === undefined
      ? opts.range
      : { ...opts.range, fromTime: fromTime - lookbackHorizon(spec.features) };
  const { source } = await historySource(opts.input, readRange);
  let warmup = 0;
  const inRange = (ts: number) =>
    (fromTime === undefined || ts >= fromTime) && (toTime === undefined || ts < toTime);
  const stream = pipeline(spec.name ?? 'train')
    .from(source)
    .map((b) => {
      if (b === null) return null; // a topic's tombstone: no record
      const row = JSON.parse(b.toString('utf8')) as Row;
      return spec.fromRow ? (spec.fromRow(row) ?? null) : (row as T);
    })
    .filter((r) => {
      if (r !== null) return true;
      unconverted++;
      return false;
    })
    .map((r) => r!) // filtered: never null from here on
    .eventTime(spec.eventTime)
    .features(spec.features);
  const names = [...recordFeatures.map(([n]) => n), ...stream.featureNames];
  const writer = openTrainingSet(
    opts.trainingSetPath,
    [
      { name: 'event_time', type: 'timestamp-ms' },
      { name: opts.label, type: 'int64' },
      ...names.map((name) => ({ name, type: 'double' as const })),
    ],
    { format: opts.trainingSetFormat, metadata: { 'sluice.input': opts.input } },
  );
  const cells: number[] = [];
  await stream
    .filter((r) => {
      if (inRange(spec.eventTime(r))) return true;
      warmup++; // read to warm the windows' state; before the range
      return false;
    })
    .filter((r) => {
      if (labelIn(r) !== undefined) return true;
      unlabelled++;
      return false;
    })
    .map((r) => ({
      ts: spec.eventTime(r),
      label: labelIn(r)!,
      row: [...recordFeatures.map(([, f]) => Number(f(r))), ...Array.from(r.features)],
    }))
    .to({
      name: 'rows',
      write: (records) => {
        for (const r of records) {
          rows.push(r.value);
          // One cells array for every row (the writer copies the values).
          cells[0] = r.value.ts;
          cells[1] = r.value.label;
          for (let i = 0; i < r.value.row.length; i++) cells[i + 2] = r.value.row[i]!;
          writer.appendRow(cells);
        }
      },
      close: async () => writer.close(),
    })
    .run({ batchSize: 4096, deadLetters }).done;
  const dropped = unlabelled + unconverted + deadLetters.count;
  log(
    `backfilled ${rows.length} rows from ${opts.input} (${dropped} dropped: unreadable, not converted, or no 0/1 ${opts.label}` +
      `${warmup > 0 ? `; ${warmup} outside the range read to warm the windows` : ''})`,
  );
  if (rows.length === 0)
    throw new SluiceError('SLUICE_OPTION_INVALID', `${opts.input}: no rows with a 0/1 "${opts.label}"`);
  rows.sort((a, b) => a.ts - b.ts);
  const first = rows[0]!.ts;
  const last = rows.at(-1)!.ts;
  const testFrom = last - (last - first) * (opts.testFraction ?? 0.2);
  const trainTo = testFrom - days(opts.labelDelayDays ?? 0);
  const f = names.length;
  const matrix = (part: typeof rows) => {
    const X = new Float64Array(part.length * f);
    part.forEach((r, i) => X.set(r.row, i * f));
    return { X, y: Uint8Array.from(part, (r) => r.label), n: part.length };
  };
  const train = matrix(rows.filter((r) => r.ts < trainTo));
  const test = matrix(rows.filter((r) => r.ts >= testFrom));
  const pos = (y: Uint8Array) => y.reduce((a, b) => a + b, 0);
  if (train.n === 0 || test.n === 0 || pos(train.y) === 0 || pos(train.y) === train.n)
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `${train.n} training rows (${pos(train.y)} positive), ${test.n} held-out rows: training needs both label values before the held-out part (lower --label-delay-days or --test-fraction)`,
    );
  const kind = opts.model ?? 'lr';
  let predict: (X: Float64Array, n: number) => Float64Array;
  let onnx: Uint8Array;
  const name = spec.name ?? 'model';
  if (kind === 'gbt') {
    const fit = trainGradientBoostedTrees(train.X, train.y, f, {
      nEstimators: 150,
      learningRate: 0.1,
      maxDepth: 3,
    });
    predict = (X, n) => fit.predictBatch(X, n);
    onnx = exportTreeEnsembleClassifier({ ...fit, name });
  } else if (kind === 'mlp') {
    const fit = trainMlp(train.X, train.y, f);
    predict = (X, n) => fit.predictBatch(X, n);
    onnx = exportMlp({ ...fit, name });
  } else {
    const fit = trainLogisticRegression(train.X, train.y, f, { l2: 1e-3 });
    predict = (X, n) => fit.predictBatch(X, n);
    onnx = exportLogisticRegression({ ...fit.standardized, name });
  }
  const scores = predict(test.X, test.n);
  const day = (ms: number) => new Date(ms).toISOString();
  const card: PipelineModelCard = {
    name,
    kind: kind === 'gbt' ? 'gradient-boosted-trees' : kind === 'mlp' ? 'mlp' : 'logistic-regression',
    label: opts.label,
    features: names,
    threshold: Number(bestF1Threshold(predict(train.X, train.n), train.y).toFixed(6)),
    data: {
      input: opts.input,
      from: day(first),
      to: day(last),
      rows: rows.length,
      train: [day(first), day(trainTo)],
      test: [day(testFrom), day(last)],
    },
    training: { rows: train.n, positives: pos(train.y), labelDelayDays: opts.labelDelayDays ?? 0, dropped },
    validation: {
      rows: test.n,
      positives: pos(test.y),
      roc_auc: Number(rocAuc(scores, test.y).toFixed(4)),
      average_precision: Number(averagePrecision(scores, test.y).toFixed(4)),
    },
    trainingSet: opts.trainingSetPath,
  };
  for (const p of [opts.modelPath, opts.cardPath]) mkdirSync(dirname(p), { recursive: true });
  writeFileSync(opts.modelPath, onnx);
  writeFileSync(opts.cardPath, JSON.stringify(card, null, 2) + '\n');
  log(
    `held-out ${card.data.test.join('..')}: ROC-AUC ${card.validation.roc_auc}, AP ${card.validation.average_precision}`,
  );
  return card;
}
