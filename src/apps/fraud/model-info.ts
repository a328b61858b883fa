import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../package-root.js';
import type { Selection } from './select.js';

/**
 * Where the demo's model and its description live (committed and shipped in the package as
 * examples/fraud/; `npm run train:fraud` rewrites them). Found from the package root, so the same
 * files serve the checkout (tsx) and the installed package (dist/src/apps/fraud/ has no copy).
 */
export const MODEL_PATH = join(PACKAGE_ROOT, 'examples', 'fraud', 'model.onnx');
export const MODEL_INFO_PATH = join(PACKAGE_ROOT, 'examples', 'fraud', 'model.json');

/**
 * A logistic regression beside it (~20 ns per row in onnxruntime): the benchmarks that measure
 * the pipeline rather than the model (e2e, naive, ceiling, `lr_*`) score with it, so their
 * figures stay comparable whichever model validation puts in model.onnx.
 */
export const LR_MODEL_PATH = join(PACKAGE_ROOT, 'examples', 'fraud', 'model-lr.onnx');
export const LR_MODEL_INFO_PATH = join(PACKAGE_ROOT, 'examples', 'fraud', 'model-lr.json');

/** What training wrote beside the ONNX file. */
export interface FraudModelInfo {
  kind: 'logistic-regression' | 'gradient-boosted-trees';
  features: string[];
  /** The settings the model was trained with (`sluice train fraud --select` chooses them). */
  hyperparameters?: Record<string, number | string>;
  /** Alert when score >= threshold (chosen on the training data for the best F1). */
  threshold: number;
  training: {
    /** Generated history: its seed, days and population. */
    seed?: number;
    days?: number;
    customers?: number;
    terminals?: number;
    /** The user's history file (`--input`), when trained on one. */
    input?: string;
    trainRows: number;
    validationRows: number;
  };
  /** On the validation days, or the handbook protocol's test week. */
  validation: {
    roc_auc: number;
    average_precision: number;
    /** Mean over the test days of the daily card precision@100 (the handbook's metric). */
    card_precision_at_100?: number;
    card_precision_at_100_per_day?: number[];
  };
  /** Data range (event times), rows, and the UTC days trained and tested on (inclusive). */
  data?: {
    from: string;
    to: string;
    rows: number;
    train: [string, string];
    test: [string, string];
    /** Days between training and test: labels of the last training days are not known yet. */
    label_delay_days: number;
  };
  /** Present when trained with the handbook's protocol (one week, 7-day gap, one test week). */
  protocol?: 'handbook';
  /** How the settings were chosen: validation folds inside the training period, candidates, scores. */
  selection?: Selection;
}

/**
 * Where `sluice train fraud` (and `trainFraudModel` without `modelPath`) writes: fraud-model.onnx
 * in the current directory, its card beside it. Never the shipped examples/fraud/model.onnx by
 * default: that is the validated model the demo loads (inside node_modules once installed);
 * rewriting it is explicit (`npm run train:fraud`).
 */
export const TRAINED_MODEL_FILE = 'fraud-model.onnx';

/**
 * The model card's path beside an ONNX file: the same name with .json.
 *
 * @example
 * cardPathFor('models/v2.onnx'); // 'models/v2.json'
 */
export const cardPathFor = (modelPath: string): string => modelPath.replace(/\.onnx$/, '') + '.json';

export function readModelInfo(path = MODEL_INFO_PATH): FraudModelInfo {
  return JSON.parse(readFileSync(path, 'utf8')) as FraudModelInfo;
}
