/**
 * Writes the features the pipeline computed for each transaction, with the Fraud Detection
 * Handbook's column names, so they can be compared with (or fed to) the handbook's notebooks:
 * the transaction's own columns, TX_DURING_WEEKEND, TX_DURING_NIGHT and the 12 window features.
 * CSV, or Parquet when the path ends in .parquet (TX_DATETIME then a UTC millisecond timestamp).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Envelope, Sink } from '../../index.js';
import { ParquetWriter, type ParquetColumn } from '../../core/parquet-writer.js';
import { trainingSetFormat } from '../training-set.js';
import { MODEL_INPUTS, isNight, isWeekend, type Tx } from './features.js';

/** The 12 online window features, in the model's order. */
export const WINDOW_FEATURES = MODEL_INPUTS.slice(3);

export const FEATURES_CSV_HEADER = [
  'TRANSACTION_ID',
  'TX_DATETIME',
  'CUSTOMER_ID',
  'TERMINAL_ID',
  'TX_AMOUNT',
  'TX_FRAUD',
  'TX_DURING_WEEKEND',
  'TX_DURING_NIGHT',
  ...WINDOW_FEATURES,
].join(',');

const datetime = (ts: number) => {
  const iso = new Date(ts).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
};

/** Shortest text that reads back as the same float64 (counts stay integers). */
const num = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(10))));

const INT = [
  'TRANSACTION_ID',
  'CUSTOMER_ID',
  'TERMINAL_ID',
  'TX_FRAUD',
  'TX_DURING_WEEKEND',
  'TX_DURING_NIGHT',
];
/** The Parquet columns: ids, label and flags as INT64, TX_DATETIME a timestamp, the rest DOUBLE. */
const PARQUET_COLUMNS: ParquetColumn[] = FEATURES_CSV_HEADER.split(',').map((name) => ({
  name,
  type: name === 'TX_DATETIME' ? 'timestamp-ms' : INT.includes(name) ? 'int64' : 'double',
}));

/** A sink of records that carry their transaction (with its window features) as `tx`: CSV or Parquet by extension. */
export class FeaturesCsvWriter implements Sink<{ tx: Tx }> {
  readonly name = 'features-csv';
  private readonly fd: number | undefined;
  private readonly parquet: ParquetWriter | undefined;
  private readonly row: number[] = [];

  /** Starts the file over (a resumed run appends only what it processes). */
  constructor(readonly path: string) {
    if (trainingSetFormat(path) === 'parquet') {
      this.parquet = new ParquetWriter(path, PARQUET_COLUMNS);
      return;
    }
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    writeSync(this.fd, FEATURES_CSV_HEADER + '\n');
  }

  write(records: Envelope<{ tx: Tx }>[]): void {
    if (this.parquet) return this.writeParquet(records);
    const lines: string[] = [];
    for (const r of records) {
      const t = r.value.tx as Tx & { features?: Float64Array };
      const f = t.features ? Array.from(t.features, num) : [];
      lines.push(
        [
          t.id,
          datetime(t.ts),
          t.customerId,
          t.terminalId,
          t.amount.toFixed(2),
          t.fraud,
          isWeekend(t.ts),
          isNight(t.ts),
          ...f,
        ].join(','),
      );
    }
    if (lines.length > 0) writeSync(this.fd!, lines.join('\n') + '\n');
  }

  private writeParquet(records: Envelope<{ tx: Tx }>[]): void {
    const row = this.row;
    for (const r of records) {
      const t = r.value.tx as Tx & { features?: Float64Array };
      row.length = 0;
      // Full float64 precision: the CSV's rounding (cents, 10 digits) is a text artefact.
      row.push(t.id, t.ts, t.customerId, t.terminalId, t.amount, t.fraud, isWeekend(t.ts), isNight(t.ts));
      if (t.features) for (const x of t.features) row.push(x);
      this.parquet!.appendRow(row);
    }
  }

  async close(): Promise<void> {
    if (this.parquet) this.parquet.close();
    else closeSync(this.fd!);
  }
}
