/**
 * The fraud example in the shape `sluice train PIPELINE.ts` reads: the very stages the live
 * fraud pipeline runs (FEATURE_GROUPS, its event time, its record features), over a
 * handbook-layout CSV converted row by row as the demo's `--input` does:
 *
 *   sluice train examples/fraud/train-pipeline.ts --input transactions.csv --label fraud \
 *     --model gbt --label-delay-days 7 --out out/fraud.onnx
 */
import type { TrainingPipeline } from '../../src/apps/train-pipeline.js';
import { FEATURE_GROUPS, isNight, isWeekend, type Tx } from '../../src/apps/fraud/features.js';
import { handbookRowToTx } from '../../src/apps/fraud/handbook-csv.js';

export default {
  name: 'fraud',
  fromRow: handbookRowToTx,
  eventTime: (t) => t.ts,
  // The model's first three inputs (modelRow), then the window features.
  recordFeatures: {
    TX_AMOUNT: (t) => t.amount,
    TX_DURING_WEEKEND: (t) => isWeekend(t.ts),
    TX_DURING_NIGHT: (t) => isNight(t.ts),
  },
  features: FEATURE_GROUPS,
} satisfies TrainingPipeline<Tx>;
