/**
 * Reads transactions in the Fraud Detection Handbook's CSV layout
 * (`TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD`, extra columns such
 * as TX_TIME_SECONDS or TX_FRAUD_SCENARIO ignored) as a pipeline source whose records are the
 * demo's JSON transactions, so the same decode → features → model chain runs on them.
 */
import { SluiceError, fileSource, type Envelope, type Source } from '../../index.js';
import { csvHeader } from '../../connectors/index.js';
import type { Tx } from './features.js';

export const HANDBOOK_COLUMNS = [
  'TRANSACTION_ID',
  'TX_DATETIME',
  'CUSTOMER_ID',
  'TERMINAL_ID',
  'TX_AMOUNT',
  'TX_FRAUD',
] as const;

/** `YYYY-MM-DD HH:MM:SS` (or ISO-8601) as epoch ms, UTC whatever the local time zone. */
export function parseHandbookDatetime(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?Z?$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] ? Math.round(+m[7] * 1000) : 0);
}

/**
 * The transaction of one CSV row (as the file source gives it: a JSON object of the header's
 * columns); undefined when a field is missing or malformed.
 *
 * @example
 * handbookRowToTx({ TRANSACTION_ID: 1, TX_DATETIME: '2018-04-01 00:00:31', CUSTOMER_ID: 596, TERMINAL_ID: 3156, TX_AMOUNT: 57.16, TX_FRAUD: 0 });
 */
export function handbookRowToTx(row: Record<string, unknown>): Tx | undefined {
  const ts = typeof row.TX_DATETIME === 'string' ? parseHandbookDatetime(row.TX_DATETIME) : NaN;
  const tx = {
    id: row.TRANSACTION_ID,
    ts,
    customerId: row.CUSTOMER_ID,
    terminalId: row.TERMINAL_ID,
    amount: row.TX_AMOUNT,
    fraud: row.TX_FRAUD,
  };
  const ok =
    Number.isFinite(ts) &&
    Number.isInteger(tx.id) &&
    Number.isInteger(tx.customerId) &&
    Number.isInteger(tx.terminalId) &&
    typeof tx.amount === 'number' &&
    (tx.fraud === 0 || tx.fraud === 1);
  return ok ? (tx as Tx) : undefined;
}

/**
 * A source over a handbook-layout CSV file: records are JSON `Tx` buffers with the event time
 * of TX_DATETIME. A row that does not convert is passed on as it is, and the pipeline's decoder
 * sends it to the dead letters with the reason. Offsets are row numbers (resumable).
 *
 * @example
 * pipeline('fraud').from(handbookCsvSource({ path: 'transactions.csv' })).decode(json(TX_SCHEMA))...
 */
export function handbookCsvSource(opts: { path: string; rate?: number; topic?: string }): Source<Buffer> {
  const inner = fileSource({
    path: opts.path,
    format: 'csv',
    rate: opts.rate,
    topic: opts.topic ?? 'transactions-csv',
  });
  return {
    ...inner,
    name: `handbook-csv:${opts.path}`,
    async open(ctx) {
      await inner.open(ctx);
      const header = csvHeader(opts.path);
      const missing = HANDBOOK_COLUMNS.filter((c) => !header.includes(c));
      if (missing.length > 0)
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `${opts.path} lacks the column(s) ${missing.join(', ')}: the input must have the handbook's header ${HANDBOOK_COLUMNS.join(',')} (extra columns are ignored)`,
        );
    },
    async poll(max: number): Promise<Envelope<Buffer>[] | null> {
      const records = await inner.poll(max);
      if (records === null) return null;
      for (const env of records) {
        let row: Record<string, unknown> | undefined;
        try {
          row = JSON.parse(env.value.toString('utf8')) as Record<string, unknown>;
        } catch {
          continue; // raw bytes of a broken line: the decoder reports it
        }
        const tx = row && handbookRowToTx(row);
        if (!tx) continue;
        env.value = Buffer.from(JSON.stringify(tx));
        env.eventTime = tx.ts;
      }
      return records;
    },
  };
}
