// Helpers of the transaction tests: confluent-kafka (test/broker/clients/txn_confluent.py),
// KafkaJS and kcat reading a topic with read_committed or read_uncommitted, so that what one
// client wrote in transactions is checked by another.

import { Kafka, logLevel } from 'kafkajs';
import { eventually } from './helpers.js';
import { PYTHON, run } from './processes.js';

const script = new URL('./clients/txn_confluent.py', import.meta.url).pathname;

/** Runs txn_confluent.py; resolves with its JSON lines (throws with its output when it fails). */
export async function confluentTxn(args: string[], timeoutMs = 120_000): Promise<Record<string, unknown>[]> {
  const r = await run(PYTHON, [script, ...args], { timeoutMs });
  if (r.code !== 0)
    throw new Error(`txn_confluent.py ${args[0]} exited ${r.code}: ${(r.stdout + r.stderr).slice(-800)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Values of partition 0 of `topic` read by confluent-kafka with `isolation`. */
export async function confluentRead(
  address: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
  max = 100_000,
): Promise<string[]> {
  const lines = await confluentTxn(['consume', address, topic, isolation, String(max)]);
  return lines.map((l) => l.v as string);
}

/** Values of `topic` read by kcat with `isolation` (to the end of the partition). */
export async function kcatRead(
  address: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
): Promise<string[]> {
  const r = await run(
    'kcat',
    ['-C', '-b', address, '-t', topic, '-p', '0', '-e', '-q', '-X', `isolation.level=${isolation}`],
    {
      timeoutMs: 60_000,
    },
  );
  if (r.code !== 0) throw new Error(`kcat exited ${r.code}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Values of `topic` read by a KafkaJS consumer (readUncommitted: false unless asked), once `count` arrived (and a moment more). */
export async function kafkajsRead(
  address: string,
  topic: string,
  count: number,
  readUncommitted = false,
): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'txn-check', brokers: [address], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `check-${topic}-${Date.now()}`, readUncommitted });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) values.push(m.value!.toString());
      },
    });
    // Says how far it got: a reader stuck below the count (a last stable offset that does not
    // move) and one that lost records look the same otherwise.
    await eventually(`${count} records of ${topic} read`, () => values.length >= count, 60_000).catch(
      (err: Error) => {
        throw new Error(`${err.message} (read ${values.length}: ${values.slice(-3).join(' ')} last)`);
      },
    );
    // Extra (aborted, duplicated) records would show up in this time.
    await new Promise((r) => setTimeout(r, 700));
  } finally {
    await consumer.disconnect();
  }
  return values;
}

/** Values that occur more than once, and the expected ones that are missing. */
export function duplicatedAndMissing(
  values: string[],
  expected: string[],
): { duplicated: string[]; missing: string[] } {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    duplicated: [...counts].filter(([, n]) => n > 1).map(([v]) => v),
    missing: expected.filter((v) => !counts.has(v)),
  };
}

export const range = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);
