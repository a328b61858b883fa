import type { Partition } from '../../log/index.js';
import { TransactionGenerator } from './generator.js';
import { mix32 } from './random.js';

export interface PopulationOptions {
  seed?: number;
  customers?: number;
  terminals?: number;
  /** Fraction of records written corrupted (bad JSON, wrong types, bad UTF-8), to show dead letters. */
  badRate?: number;
}

export interface ProducerHandle {
  /** True once every requested event is in the log. */
  readonly finished: boolean;
  readonly done: Promise<void>;
  stop(): void;
}

const BATCH = 2048;

/** Corrupts some records on purpose, chosen by a hash of (seed, offset) so runs agree. */
function corrupt(json: string, seed: number, offset: number): Buffer {
  switch (mix32(mix32(seed ^ 0x5bd1e995) ^ offset) % 4) {
    case 0:
      return Buffer.from(json.slice(0, json.length >> 1)); // truncated JSON
    case 1:
      return Buffer.from(json.replace(/"amount":[^,}]+/, '"amount":"12,50"')); // wrong type
    case 2:
      return Buffer.concat([
        Buffer.from(json.slice(0, 10)),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(json.slice(10)),
      ]); // invalid UTF-8
    default:
      return Buffer.from(json.replace(/"customerId":\d+,/, '')); // missing field
  }
}

/**
 * Appends generated transactions to the log until it holds `events` of them, at `rate` events/s
 * (or as fast as possible). It continues from the log's end, so a restarted demo resumes the
 * same deterministic stream instead of starting over.
 */
export function produceTransactions(
  partition: Partition,
  opts: Required<Omit<PopulationOptions, 'badRate'>> & { badRate: number; events: number; rate?: number },
): ProducerHandle {
  let stopped = false;
  let finished = partition.highWatermark >= opts.events;
  const run = async () => {
    const start = partition.highWatermark;
    if (start >= opts.events) return;
    const gen = new TransactionGenerator({
      seed: opts.seed,
      customers: opts.customers,
      terminals: opts.terminals,
    });
    const it = gen.skip(start);
    const began = performance.now();
    let produced = 0;
    let offset = start;
    const badThreshold = Math.floor(opts.badRate * 2 ** 32);
    while (!stopped && offset < opts.events) {
      let n = Math.min(BATCH, opts.events - offset);
      if (opts.rate) {
        const due = Math.floor(((performance.now() - began) / 1000) * opts.rate) - produced;
        if (due <= 0) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        n = Math.min(n, due);
      }
      const records = new Array(n);
      for (let i = 0; i < n; i++) {
        const tx = it.next().value!;
        const text = JSON.stringify(tx);
        const bad = badThreshold > 0 && mix32(mix32(opts.seed) ^ (offset + i)) < badThreshold;
        records[i] = {
          key: Buffer.from(String(tx.customerId)),
          value: bad ? corrupt(text, opts.seed, offset + i) : Buffer.from(text),
        };
      }
      partition.append(records);
      offset += n;
      produced += n;
      // Let the pipeline, sharing this thread, read what was just written.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (offset >= opts.events) finished = true;
  };
  const done = run();
  return {
    get finished() {
      return finished;
    },
    done,
    stop() {
      stopped = true;
    },
  };
}
