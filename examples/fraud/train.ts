/**
 * Trains the fraud model the handbook's way, on history generated with another seed than any
 * demo run: features from the same windows as the live pipeline, a logistic regression fitted
 * by our own trainer, exported to ONNX by our own exporter.
 */
import { writeFileSync } from 'node:fs';
import {
  averagePrecision,
  collect,
  days,
  exportLogisticRegression,
  fromArray,
  pipeline,
  rocAuc,
  trainLogisticRegression,
} from '../../src/index.js';
import { FEATURE_GROUPS, MODEL_INPUTS, MODEL_WIDTH, modelRow, type Tx } from './features.js';
import { TransactionGenerator } from './generator.js';
import { MODEL_INFO_PATH, MODEL_PATH, type FraudModelInfo } from './model-info.js';

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
  modelPath?: string;
  infoPath?: string;
  log?: (line: string) => void;
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
function bestF1Threshold(scores: Float64Array, labels: Uint8Array): number {
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

/** Generates history, trains, exports; returns what it wrote to model.json. */
export async function trainFraudModel(opts: TrainOptions = {}): Promise<FraudModelInfo> {
  const o = { ...TRAIN_DEFAULTS, ...opts };
  const log = opts.log ?? (() => {});
  const gen = new TransactionGenerator({ seed: o.seed, customers: o.customers, terminals: o.terminals });
  const txs: Tx[] = [];
  for (let d = 0; d < o.days; d++) for (const t of gen.nextDay()) txs.push(t);
  log(`generated ${txs.length} transactions over ${o.days} days (seed ${o.seed})`);
  const { X, y, ts } = await featureRows(txs);
  const start = txs[0]!.ts;
  const trainFrom = start + days(o.warmupDays);
  const validFrom = start + days(o.days - o.validationDays);
  const pick = (lo: number, hi: number) => {
    const rows: number[] = [];
    for (let i = 0; i < ts.length; i++) if (ts[i]! >= lo && ts[i]! < hi) rows.push(i);
    const Xs = new Float64Array(rows.length * MODEL_WIDTH);
    const ys = new Uint8Array(rows.length);
    rows.forEach((r, k) => {
      Xs.set(X.subarray(r * MODEL_WIDTH, (r + 1) * MODEL_WIDTH), k * MODEL_WIDTH);
      ys[k] = y[r]!;
    });
    return { X: Xs, y: ys, n: rows.length };
  };
  const train = pick(trainFrom, validFrom);
  const valid = pick(validFrom, Infinity);
  const fit = trainLogisticRegression(train.X, train.y, MODEL_WIDTH, { l2: 1e-3 });
  log(`trained on ${train.n} rows in ${fit.iterations} Newton steps (converged: ${fit.converged})`);
  const validScores = fit.predictBatch(valid.X, valid.n);
  const info: FraudModelInfo = {
    kind: 'logistic-regression',
    features: [...MODEL_INPUTS],
    threshold: Number(bestF1Threshold(fit.predictBatch(train.X, train.n), train.y).toFixed(6)),
    training: {
      seed: o.seed,
      days: o.days,
      customers: o.customers,
      terminals: o.terminals,
      trainRows: train.n,
      validationRows: valid.n,
    },
    validation: {
      roc_auc: Number(rocAuc(validScores, valid.y).toFixed(4)),
      average_precision: Number(averagePrecision(validScores, valid.y).toFixed(4)),
    },
  };
  writeFileSync(
    opts.modelPath ?? MODEL_PATH,
    exportLogisticRegression({ ...fit.standardized, name: 'fraud_lr' }),
  );
  writeFileSync(opts.infoPath ?? MODEL_INFO_PATH, JSON.stringify(info, null, 2) + '\n');
  log(
    `validation: ROC-AUC ${info.validation.roc_auc}, AP ${info.validation.average_precision}; alert threshold ${info.threshold}`,
  );
  return info;
}
