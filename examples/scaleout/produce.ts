/**
 * Produces card payments to a Kafka topic (e.g. `sluice broker`), keyed by card so that each
 * card's payments stay in order in one partition: `npx tsx examples/scaleout/produce.ts
 * --events 200000 [--brokers 127.0.0.1:9092] [--topic payments] [--partitions 6] [--seed 1]`.
 */
import { parseArgs } from 'node:util';
import { producePayments } from './payments.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    brokers: { type: 'string', default: process.env.SLUICE_BROKERS ?? '127.0.0.1:9092' },
    topic: { type: 'string', default: 'payments' },
    partitions: { type: 'string', default: '6' },
    seed: { type: 'string', default: '1' },
  },
});
const t0 = performance.now();
const n = await producePayments({
  brokers: values.brokers!.split(','),
  topic: values.topic!,
  partitions: Number(values.partitions),
  events: Number(values.events),
  seed: Number(values.seed),
});
console.log(JSON.stringify({ produced: n, topic: values.topic, ms: Math.round(performance.now() - t0) }));
