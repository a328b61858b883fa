/** The transaction record, the generator's options and defaults, and the handbook's CSV layout. */

/** One card transaction. */
export interface Transaction {
  /** Consecutive from 0 in time order across days. */
  id: number;
  /** Epoch milliseconds (whole seconds, UTC). */
  ts: number;
  customerId: number;
  terminalId: number;
  /** In currency units, rounded to cents. */
  amount: number;
  fraud: 0 | 1;
  /** Fraud scenario that set the label last (0 = legitimate). */
  scenario: 0 | 1 | 2 | 3;
}

export interface GeneratorOptions {
  /** Default 0. Any finite number. */
  seed?: number;
  /** Number of customers (handbook: 5000). */
  customers?: number;
  /** Number of terminals (handbook: 10000). */
  terminals?: number;
  /** Radius of a customer's usable terminals, in a 100 × 100 square (handbook: 5). */
  radius?: number;
  /** First simulated day, 'YYYY-MM-DD' in UTC (handbook: '2018-04-01'). */
  startDate?: string;
  /**
   * Terminals compromised per day PER 10 000 TERMINALS (handbook: 2); the effective daily
   * expectation is this × terminals / 10 000, so fraud rates do not depend on population size.
   */
  compromisedTerminalsPerDay?: number;
  /**
   * Customers compromised per day PER 5 000 CUSTOMERS (handbook: 3); the effective daily
   * expectation is this × customers / 5 000.
   */
  compromisedCustomersPerDay?: number;
}

/** The handbook's parameters, also this generator's defaults. */
export const HANDBOOK = Object.freeze({
  customers: 5000,
  terminals: 10000,
  radius: 5,
  startDate: '2018-04-01',
  compromisedTerminalsPerDay: 2,
  compromisedCustomersPerDay: 3,
  area: 100,
  amountThreshold: 220,
  terminalWindowDays: 28,
  customerWindowDays: 14,
  customerFraudFraction: 1 / 3,
  customerFraudMultiplier: 5,
});

export const TX_CSV_HEADER = 'TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD';

/** The handbook's CSV layout: `id,YYYY-MM-DD HH:MM:SS,customer,terminal,amount,fraud` (UTC). */
export function toCsvRow(tx: Transaction): string {
  const iso = new Date(tx.ts).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return `${tx.id},${iso.slice(0, 10)} ${iso.slice(11, 19)},${tx.customerId},${tx.terminalId},${tx.amount.toFixed(2)},${tx.fraud}`;
}

/** Validation of the generator's options (RangeError with what is wrong). */
export function checkCount(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}

export function checkRate(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  return v;
}

export function parseStartDate(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(ms).toISOString().slice(0, 10) !== s) {
    throw new RangeError(`startDate must be a valid 'YYYY-MM-DD', got '${s}'`);
  }
  return ms;
}
