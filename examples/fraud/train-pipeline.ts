/**
 * The fraud example's feature stages in the shape `sluice train PIPELINE.ts` reads, so the
 * generic trainer runs on a handbook-layout CSV (rows as the CSV gives them):
 *
 *   sluice train examples/fraud/train-pipeline.ts --input transactions.csv --label TX_FRAUD \
 *     --model gbt --label-delay-days 7 --out out/fraud.onnx
 *
 * The same `eventTime` and `features` go to the live pipeline's `.eventTime()` and `.features()`.
 */
import { count, days, lookback, mean } from '../../src/index.js';
import type { TrainingPipeline } from '../../src/apps/train-pipeline.js';

interface Row extends Record<string, unknown> {
  TX_DATETIME: string;
  CUSTOMER_ID: number;
  TERMINAL_ID: number;
  TX_AMOUNT: number;
  TX_FRAUD: number;
}

const WINDOWS = [days(1), days(7), days(30)];
const label = (w: number) => `${w / days(1)}DAY`;
// "YYYY-MM-DD HH:MM:SS" in UTC.
const eventTime = (r: Row) => Date.parse(r.TX_DATETIME.replace(' ', 'T') + 'Z');

export default {
  name: 'fraud',
  eventTime,
  recordFeatures: {
    TX_AMOUNT: (r) => r.TX_AMOUNT,
    TX_DURING_WEEKEND: (r) => ([0, 6].includes(new Date(eventTime(r)).getUTCDay()) ? 1 : 0),
    TX_DURING_NIGHT: (r) => (new Date(eventTime(r)).getUTCHours() <= 6 ? 1 : 0),
  },
  features: {
    customer: lookback<Row>({
      key: (r) => r.CUSTOMER_ID,
      windows: WINDOWS,
      aggregate: { NB_TX: count(), AVG_AMOUNT: mean((r) => r.TX_AMOUNT) },
      name: (agg, w) => `CUSTOMER_ID_${agg}_${label(w)}_WINDOW`,
    }),
    // Fraud labels are known 7 days late: terminal risk looks at windows ending 7 days ago.
    terminal: lookback<Row>({
      key: (r) => r.TERMINAL_ID,
      windows: WINDOWS,
      delay: days(7),
      aggregate: { NB_TX: count(), RISK: mean((r) => r.TX_FRAUD, { empty: 0 }) },
      name: (agg, w) => `TERMINAL_ID_${agg}_${label(w)}_WINDOW`,
    }),
  },
} satisfies TrainingPipeline<Row>;
