import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the demo's model and its description live (committed; `sluice train fraud` rewrites them). */
export const MODEL_PATH = fileURLToPath(new URL('./model.onnx', import.meta.url));
export const MODEL_INFO_PATH = fileURLToPath(new URL('./model.json', import.meta.url));

/** What training wrote beside the ONNX file. */
export interface FraudModelInfo {
  kind: 'logistic-regression' | 'gradient-boosted-trees';
  features: string[];
  /** Alert when score >= threshold (chosen on the training data for the best F1). */
  threshold: number;
  training: {
    seed: number;
    days: number;
    customers: number;
    terminals: number;
    trainRows: number;
    validationRows: number;
  };
  /** On the validation days, or the handbook protocol's test week. */
  validation: { roc_auc: number; average_precision: number; card_precision_at_100?: number };
  /** Present when trained with the handbook's protocol (one week, 7-day gap, one test week). */
  protocol?: 'handbook';
}

export function readModelInfo(path = MODEL_INFO_PATH): FraudModelInfo {
  return JSON.parse(readFileSync(path, 'utf8')) as FraudModelInfo;
}
