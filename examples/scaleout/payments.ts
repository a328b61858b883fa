import { Admin, Producer } from '@platformatic/kafka';
import { partitionFor } from '../../src/scale.js';
import { seededRandom } from '../../src/core/random.js';

export interface PaymentsOptions {
  brokers: string[];
  topic: string;
  /** Partitions to create the topic with, when missing. */
  partitions: number;
  events: number;
  seed?: number;
  cards?: number;
  /** Event time of the first payment, epoch ms. */
  start?: number;
  /** Id of the first payment (to produce a stream in parts). */
  first?: number;
}

/**
 * Generates payments (a few cards in bursts, a few unusually large amounts) and produces them
 * keyed by card, to the card's partition under Kafka's default partitioner. Resolves with the
 * number produced.
 */
export async function producePayments(opts: PaymentsOptions): Promise<number> {
  await createTopic(opts.brokers, opts.topic, opts.partitions);
  const producer = new Producer({ clientId: 'payments', bootstrapBrokers: opts.brokers, acks: -1 });
  const rand = seededRandom(opts.seed ?? 1);
  const cards = opts.cards ?? 2000;
  const first = opts.first ?? 0;
  // ~200 ms apart on average: a later part starts where an earlier one ended
  let ts = opts.start ?? Date.UTC(2026, 0, 1) + first * 200;
  const chunk = 5000;
  try {
    for (let i = first; i < first + opts.events; i += chunk) {
      const messages = [];
      for (let k = i; k < Math.min(first + opts.events, i + chunk); k++) {
        ts += Math.floor(rand() * 400);
        // one payment in 50 is a card's burst: it goes to one of a few busy cards
        const card = rand() < 0.02 ? Math.floor(rand() * 20) : Math.floor(rand() * cards);
        const amount = Math.round((rand() < 0.01 ? 500 + rand() * 2000 : 5 + rand() * 120) * 100) / 100;
        const value = Buffer.from(JSON.stringify({ id: k, card, amount, ts }));
        messages.push({
          topic: opts.topic,
          key: Buffer.from(String(card)),
          value,
          partition: partitionFor(card, opts.partitions),
        });
      }
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
  return opts.events;
}

/** Creates `topic` with `partitions` unless it exists (then it keeps its partitions). */
export async function createTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'payments', bootstrapBrokers: brokers });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: -1 });
  } catch {
    // already there
  } finally {
    await admin.close();
  }
}
