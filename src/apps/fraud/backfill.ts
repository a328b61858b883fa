/**
 * Backfill: the demo's own feature stages (decode → event time → the handbook's lookback
 * windows) run over a handbook-layout CSV in event time, so a training set has exactly the
 * features the live pipeline serves. Point-in-time correct by construction: each row's windows
 * end at its own event time and the terminal fraud ratios at t − 7 days (the label delay), the
 * same state code as online.
 */
import { SluiceError, fanOut, json, pipeline, type Envelope, type Sink } from '../../index.js';
import {
  historySource,
  isTopicUrl,
  lookbackHorizon,
  type HistoryRange,
} from '../../connectors/history-source.js';
import { MemoryDeadLetters } from '../../testing.js';
import { FeaturesCsvWriter } from './features-csv.js';
import { FEATURE_GROUPS, MODEL_WIDTH, TX_SCHEMA, modelRow, type Tx } from './features.js';
import { handbookCsvSource } from './handbook-csv.js';

/** Model input rows (row-major, MODEL_WIDTH wide) with the label, time and card of each row. */
export interface FeatureMatrix {
  n: number;
  X: Float64Array;
  /** TX_FRAUD of each row. */
  y: Uint8Array;
  /** Event time (epoch ms). */
  ts: Float64Array;
  /** Customer (card) id, for card precision@k. */
  cards: Float64Array;
}

/** Collects model rows into growing typed arrays (no per-record object kept). */
class MatrixSink implements Sink<Tx & { features: Float64Array }> {
  readonly name = 'feature-matrix';
  n = 0;
  private X = new Float64Array(1 << 16);
  private meta = {
    y: new Uint8Array(1 << 12),
    ts: new Float64Array(1 << 12),
    cards: new Float64Array(1 << 12),
  };

  write(records: Envelope<Tx & { features: Float64Array }>[]): void {
    const need = this.n + records.length;
    if (need > this.meta.y.length) this.grow(Math.max(need, this.meta.y.length * 2));
    for (const r of records) {
      const t = r.value;
      modelRow(t, t.features, this.X.subarray(this.n * MODEL_WIDTH, (this.n + 1) * MODEL_WIDTH));
      this.meta.y[this.n] = t.fraud;
      this.meta.ts[this.n] = t.ts;
      this.meta.cards[this.n] = t.customerId;
      this.n++;
    }
  }

  private grow(rows: number): void {
    const X = new Float64Array(rows * MODEL_WIDTH);
    X.set(this.X.subarray(0, this.n * MODEL_WIDTH));
    this.X = X;
    const y = new Uint8Array(rows);
    const ts = new Float64Array(rows);
    const cards = new Float64Array(rows);
    y.set(this.meta.y.subarray(0, this.n));
    ts.set(this.meta.ts.subarray(0, this.n));
    cards.set(this.meta.cards.subarray(0, this.n));
    this.meta = { y, ts, cards };
  }

  matrix(): FeatureMatrix {
    const n = this.n;
    return {
      n,
      X: this.X.slice(0, n * MODEL_WIDTH),
      y: this.meta.y.slice(0, n),
      ts: this.meta.ts.slice(0, n),
      cards: this.meta.cards.slice(0, n),
    };
  }
}

export interface BackfillResult extends FeatureMatrix {
  /** Rows that did not convert (reason in `deadLetterReasons`); not in the matrix. */
  deadLetters: number;
  deadLetterReasons: string[];
}

/**
 * Computes the fraud features of every transaction of a handbook-layout CSV — or of a topic of
 * the demo's JSON transactions (`log:DIR/transactions`, `kafka://host:port/transactions`), within
 * `range` — with the demo's pipeline stages; optionally writes them as the training set
 * (`--features-out`'s layout, CSV or `.parquet`). From a time, the read starts the windows'
 * horizon (37 days) earlier to warm their state, and only transactions from that time on are kept.
 *
 * @example
 * const set = await backfillFraudFeatures('transactions.csv', { featuresOut: 'training-set.parquet' });
 * console.log(set.n, 'rows,', set.y.reduce((a, b) => a + b, 0), 'frauds');
 */
export async function backfillFraudFeatures(
  input: string,
  opts: { featuresOut?: string; range?: HistoryRange } = {},
): Promise<BackfillResult> {
  const { fromTime, toTime } = opts.range ?? {};
  const source = isTopicUrl(input)
    ? (
        await historySource(
          input,
          fromTime === undefined
            ? opts.range
            : { ...opts.range, fromTime: fromTime - lookbackHorizon(FEATURE_GROUPS) },
        )
      ).source
    : handbookCsvSource({ path: input });
  if (!isTopicUrl(input) && Object.values(opts.range ?? {}).some((v) => v !== undefined))
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `${input} is a file: offsets and times select records of a topic (log: or kafka:)`,
    );
  const matrix = new MatrixSink();
  const deadLetters = new MemoryDeadLetters();
  const sinks: Sink<Tx & { features: Float64Array }>[] = [matrix];
  if (opts.featuresOut) {
    const writer = new FeaturesCsvWriter(opts.featuresOut);
    sinks.push({
      name: writer.name,
      write: (records) => writer.write(records.map((r) => ({ ...r, value: { tx: r.value } }))),
      close: () => writer.close(),
    });
  }
  await pipeline('fraud-backfill')
    .from(source)
    .decode(json(TX_SCHEMA))
    .eventTime((t) => t.ts)
    .features(FEATURE_GROUPS)
    // Transactions before the range only warmed the windows.
    .filter((t) => (fromTime === undefined || t.ts >= fromTime) && (toTime === undefined || t.ts < toTime))
    .to(fanOut(...sinks))
    .run({ batchSize: 4096, deadLetters }).done;
  return {
    ...matrix.matrix(),
    deadLetters: deadLetters.count,
    deadLetterReasons: deadLetters.items.slice(0, 5).map((d) => d.reason),
  };
}
