/**
 * A scaled-out pipeline for `sluice run`: card payments in, per-card spending windows, an alert
 * when a payment is far above the card's recent habit. Run it on several workers:
 *
 *   sluice broker --partitions 6 &
 *   npx tsx examples/scaleout/produce.ts --events 200000
 *   SCALEOUT_ACTIONS=postgres://postgres@127.0.0.1/test?table=scaleout_alerts \
 *     sluice run examples/scaleout/pipeline.ts --workers 2
 *
 * `.keyBy(card)` comes before the state, so records are repartitioned by card (through the
 * `<group>-repartition` topic) and each card's windows live on exactly one worker, backed by the
 * `<group>-changelog` topic.
 */
import { action, actionSinkFromUrl, count, hours, json, lookback, mean, minutes } from '../../src/index.js';
import { scaledApp } from '../../src/scale.js';

export const PAYMENT_SCHEMA = { id: 'integer', card: 'integer', amount: 'number', ts: 'integer' } as const;

export const perCard = lookback<{ card: number; amount: number }>({
  key: (p) => p.card,
  windows: [minutes(10), hours(24)],
  aggregate: { n: count(), avg: mean((p) => p.amount) },
});

export default scaledApp({
  name: 'payments',
  input: process.env.SCALEOUT_INPUT ?? 'payments',
  build: (stream, ctx) =>
    stream
      .decode(json(PAYMENT_SCHEMA))
      .eventTime((p) => p.ts)
      .keyBy((p) => p.card)
      .features({ card: perCard })
      .to(
        action({
          name: 'alert',
          // features: [n, avg] over 10 min, then over 24 h (this payment included)
          when: (p) => p.features[0]! >= 6 || (p.features[2]! >= 5 && p.amount > 3 * p.features[3]!),
          payload: (p) => ({
            id: p.id,
            card: p.card,
            amount: p.amount,
            n10m: p.features[0],
            avg24h: Math.round(p.features[3]! * 100) / 100,
          }),
          to: actionSinkFromUrl(
            process.env.SCALEOUT_ACTIONS ?? `kafka://${ctx.brokers[0]}/${ctx.group}-alerts`,
          ),
        }),
      ),
});
