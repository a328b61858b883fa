/**
 * `node --import tsx examples/nexmark/run.ts [events] [query…]`: generates the events in memory,
 * then runs each query (default: all) over them from an in-memory source with no checkpoints,
 * and prints events/s per query (second of two rounds) and the query's output count. A quick look at the DSL's own
 * cost; the figures depend on the machine and its load (noisy on a shared one), and leave out
 * the log, JSON decoding and durable checkpoints (the bench scenario's work).
 */
import { pipeline, type Sink, type Stream } from '../../src/index.js';
import { fromArray } from '../../src/testing.js';
import { generateEvents, type NexmarkEvent } from './generator.js';
import { QUERIES, type QueryName } from './queries/index.js';

/** Counts results without keeping them. */
function counting(): Sink<unknown> & { n: number } {
  return {
    name: 'count',
    n: 0,
    write(records) {
      this.n += records.length;
    },
  };
}

async function main(): Promise<void> {
  const [count = '1000000', ...names] = process.argv.slice(2);
  const n = Number(count);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`events must be a positive integer, got "${count}"`);
  const wanted = (names.length > 0 ? names : Object.keys(QUERIES)) as QueryName[];
  for (const q of wanted)
    if (!(q in QUERIES)) throw new Error(`unknown query "${q}"; known: ${Object.keys(QUERIES).join(', ')}`);
  const events = generateEvents(n, { seed: 1 });
  for (const q of wanted) {
    const build = QUERIES[q] as unknown as (s: Stream<NexmarkEvent>) => Stream<unknown>;
    const sink = counting();
    const source = fromArray(events, { eventTime: (e) => e.dateTime });
    const t = performance.now();
    await build(pipeline(`nexmark-${q}`).from(source))
      .to(sink)
      .run().done;
    const s = (performance.now() - t) / 1000;
    console.log(
      `${q.padEnd(4)} ${Math.round(n / s)
        .toLocaleString('en-US')
        .padStart(12)} events/s  ${sink.n} results`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
