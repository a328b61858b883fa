// A consumer's pipeline, compiled against the installed package's types by .ci/pack-check.sh:
// per-card windowed features, an alert when a payment is far above the card's habit.
import { count, days, lookback, mean, pipeline, type Source } from 'sluice';
import { trainLogisticRegression } from 'sluice/train';
import { collect, fromArray, MemoryCheckpointStore } from 'sluice/testing';
import type { ScaledApp } from 'sluice/scale';
import type { FsyncPolicy } from 'sluice/log';
import type { BrokerOptions } from 'sluice/broker';
import { SluiceError } from 'sluice';
import { ConnectorError } from 'sluice/connectors';
import { QueueFullError } from 'sluice/inference';
import type { SloRule } from 'sluice/observe';
import type { LedgerEntry } from 'sluice/actions';

interface Payment {
  card: number;
  amount: number;
  ts: number;
}

const payments: Payment[] = Array.from({ length: 5000 }, (_, i) => ({
  card: i % 50,
  amount: i % 997 === 0 ? 5000 : 20 + (i % 30),
  ts: 1_700_000_000_000 + i * 60_000,
}));
const source: Source<Payment> = fromArray(payments);
const alerts = collect<{ card: number; amount: number; avg: number }>();

const run = pipeline('payments')
  .from(source)
  .eventTime((p) => p.ts)
  .keyBy((p) => p.card)
  .features({
    card: lookback<Payment>({
      key: (p) => p.card,
      windows: [days(1)],
      aggregate: { n: count(), avg: mean((p) => p.amount) },
    }),
  })
  .filter((p) => p.features[0]! > 1 && p.amount > 10 * p.features[1]!)
  .map((p) => ({ card: p.card, amount: p.amount, avg: p.features[1]! }))
  .to(alerts)
  .run({ checkpoints: new MemoryCheckpointStore() });
const summary = await run.done;

// Type-only uses of the subpaths: they must resolve with their declarations.
const fsync: FsyncPolicy = 'batch';
const broker: Partial<BrokerOptions> = {};
const app: ScaledApp | undefined = undefined;
const fit = trainLogisticRegression([0, 1, 0, 1], [0, 1, 0, 1], 1);
// Every subpath resolves, and its errors share the root's base class.
const slo: SloRule | undefined = undefined;
const entry: LedgerEntry | undefined = undefined;
const oneBase =
  new QueueFullError('full') instanceof SluiceError && ConnectorError.prototype instanceof SluiceError;

console.log(
  JSON.stringify({
    processed: summary.counters.processed,
    alerts: alerts.values.length,
    fsync,
    broker,
    app: app ?? null,
    slo: slo ?? null,
    entry: entry ?? null,
    oneBase,
    weights: fit.weights.length,
  }),
);
