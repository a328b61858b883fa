/**
 * The fraud features of the Fraud Detection Handbook ("Baseline feature transformation"),
 * computed online as event-time lookback windows, shared by the demo and by training so the
 * model sees exactly the features it is served.
 */
import { count, days, lookback, mean, type LookbackSpec } from '../../index.js';
import { durationLabel } from '../../stream/index.js';

/** A transaction as it travels on the log (JSON). */
export interface Tx {
  id: number;
  /** Epoch ms. */
  ts: number;
  customerId: number;
  terminalId: number;
  amount: number;
  /** Known to the bank 7 days later; the features only use it through the delayed windows. */
  fraud: number;
}

export const TX_SCHEMA = {
  id: 'integer',
  ts: 'integer',
  customerId: 'integer',
  terminalId: 'integer',
  amount: 'number',
  fraud: 'integer',
} as const;

export const WINDOWS = [days(1), days(7), days(30)];
/** Labels arrive after this delay, so terminal risk looks at the windows ending 7 days ago. */
export const LABEL_DELAY = days(7);

const dayLabel = (w: number) => `${durationLabel(w).replace('d', '')}DAY`;

/** Per customer: number of tx and mean amount over (t − w, t], this tx included. */
export const customerWindows: LookbackSpec<Tx> = lookback<Tx>({
  key: (t) => t.customerId,
  windows: WINDOWS,
  aggregate: { NB_TX: count(), AVG_AMOUNT: mean((t) => t.amount) },
  name: (agg, w) => `CUSTOMER_ID_${agg}_${dayLabel(w)}_WINDOW`,
});

/** Per terminal: number of tx and fraud ratio over (t − 7d − w, t − 7d]; 0 when empty. */
export const terminalWindows: LookbackSpec<Tx> = lookback<Tx>({
  key: (t) => t.terminalId,
  windows: WINDOWS,
  delay: LABEL_DELAY,
  aggregate: { NB_TX: count(), RISK: mean((t) => t.fraud, { empty: 0 }) },
  name: (agg, w) => `TERMINAL_ID_${agg}_${dayLabel(w)}_WINDOW`,
});

export const FEATURE_GROUPS = { customer: customerWindows, terminal: terminalWindows };

/** Columns of the model input, in order. */
export const MODEL_INPUTS = [
  'TX_AMOUNT',
  'TX_DURING_WEEKEND',
  'TX_DURING_NIGHT',
  ...['1', '7', '30'].flatMap((d) => [
    `CUSTOMER_ID_NB_TX_${d}DAY_WINDOW`,
    `CUSTOMER_ID_AVG_AMOUNT_${d}DAY_WINDOW`,
  ]),
  ...['1', '7', '30'].flatMap((d) => [`TERMINAL_ID_NB_TX_${d}DAY_WINDOW`, `TERMINAL_ID_RISK_${d}DAY_WINDOW`]),
] as const;
export const MODEL_WIDTH = MODEL_INPUTS.length;

/**
 * The handbook's flags: weekend (Sat/Sun) and night (before 06:00), in UTC. Arithmetic on the
 * epoch ms, as `new Date(ts).getUTCDay()` / `.getUTCHours()` give (a test compares them): a Date
 * per call was two allocations per record on the pipeline's hot path.
 */
export function isWeekend(ts: number): number {
  if (!(Math.abs(ts) <= MAX_DATE_MS)) return 0; // outside Date's range (or NaN): an invalid Date
  const dow = floorMod(Math.floor(Math.trunc(ts) / DAY_MS) + 4, 7); // 1970-01-01 was a Thursday
  return dow === 0 || dow === 6 ? 1 : 0;
}

export function isNight(ts: number): number {
  if (!(Math.abs(ts) <= MAX_DATE_MS)) return 0;
  return floorMod(Math.floor(Math.trunc(ts) / HOUR_MS), 24) <= 6 ? 1 : 0;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MAX_DATE_MS = 8.64e15;
/** `x mod m` in [0, m), for negative x too. */
const floorMod = (x: number, m: number): number => ((x % m) + m) % m;

/** Writes the model input row of a transaction with its window features into `out`. */
export function modelRow(
  tx: Tx,
  windowFeatures: Float64Array,
  out: Float64Array = new Float64Array(MODEL_WIDTH),
): Float64Array {
  out[0] = tx.amount;
  out[1] = isWeekend(tx.ts);
  out[2] = isNight(tx.ts);
  out.set(windowFeatures, 3);
  return out;
}
