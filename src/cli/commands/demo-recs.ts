import { resolve } from 'node:path';
import { runRecsDemo, type RecsDemoResult } from '../../apps/recommendations/demo.js';
import { GENERATOR_DEFAULTS } from '../../apps/recommendations/generator.js';
import { intFlag, numberFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { progressLine } from '../progress.js';

export const DEMO_RECS_USAGE = `sluice demo recs [options]

Streams user-item interactions through a pipeline that keeps each user's recent items as keyed
state and updates item-item co-occurrence and popularity online, and serves
GET /recommendations/{user}?k=10 from that live state (127.0.0.1). Quality is prequential: before
each interaction updates the state, was its item in the user's current top 10? A most-popular
baseline is scored the same way in the same run.

  --input FILE.csv  interactions user_id,item_id,rating,timestamp (MovieLens' userId,movieId,
                    rating,timestamp too; epoch s or ms), in time order; default: a generator
                    with latent user and item factors
  --events N        generated interactions (default 200000)
  --seed S          generator seed (default ${GENERATOR_DEFAULTS.seed})
  --users N         generated users (default ${GENERATOR_DEFAULTS.users})
  --items N         generated items (default ${GENERATOR_DEFAULTS.items})
  --rate EPS        interactions per second offered (default: as fast as possible)
  --warmup N        interactions learned before quality is measured (default 10000)
  --user-neighbours W
                    add votes from the users who rated the same recent items (session kNN)
                    with weight W (3 was chosen on MovieLens; default off: about half the
                    replay throughput)
  --port PORT       HTTP port on 127.0.0.1; 0 (default) picks a free one; printed on stderr
  --serve           keep serving once the stream has ended, until Ctrl-C
  --json            print one JSON summary on stdout (quality.hit_rate_at_10, quality.ndcg_at_10,
                    quality.baseline_hit_rate_at_10, serving latency, ...)
  --quiet           no progress lines
`;

export async function demoRecs(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    input: { type: 'string' },
    events: { type: 'string' },
    seed: { type: 'string' },
    users: { type: 'string' },
    items: { type: 'string' },
    rate: { type: 'string' },
    warmup: { type: 'string' },
    'user-neighbours': { type: 'string' },
    port: { type: 'string' },
    serve: { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DEMO_RECS_USAGE);
    return 0;
  }
  const showProgress = !values.quiet && (!values.json || process.stderr.isTTY);
  let stopRequested = false;
  const events = intFlag(values.events, 'events', 200_000, 1, 1e9);
  const users = intFlag(values.users, 'users', GENERATOR_DEFAULTS.users, 1, 1e7);
  const items = intFlag(values.items, 'items', GENERATOR_DEFAULTS.items, 2, 1e6);
  // Each generated user has each item at most once.
  if (values.input === undefined && events > users * items)
    throw new UsageError(
      `--events ${events} is more than ${users} users × ${items} items can generate (each pair once): lower --events or raise --users / --items`,
    );
  const userNeighbours = numberFlag(values['user-neighbours'], 'user-neighbours', 0, 0, 1e6);
  const result = await runRecsDemo({
    input: values.input === undefined ? undefined : resolve(stringFlag(values.input, 'input', '')),
    events,
    seed: intFlag(values.seed, 'seed', GENERATOR_DEFAULTS.seed, 0, 2 ** 32 - 1),
    users,
    items,
    rate: numberFlag(values.rate, 'rate', undefined, 1, 1e9),
    warmup: intFlag(values.warmup, 'warmup', 10_000, 0, 1e9),
    recommender: userNeighbours ? { userNeighbours: { weight: userNeighbours } } : undefined,
    port: intFlag(values.port, 'port', 0, 0, 65535),
    serve: values.serve === true,
    onServer: (url) => process.stderr.write(`recommendations: ${url}/recommendations/{user}?k=10\n`),
    onProgress: showProgress ? (p) => process.stderr.write(progressLine(p) + '\n') : undefined,
    onStart: (_run, stop) => {
      process.once('SIGINT', () => {
        stopRequested = true;
        process.once('SIGINT', () => process.exit(130));
        stop();
      });
    },
  });
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(humanSummary(result) + '\n');
  return stopRequested && !values.serve ? 130 : 0;
}

function humanSummary(r: RecsDemoResult): string {
  const q = r.quality;
  return [
    `recs demo ${r.stopped ? 'stopped' : 'done'}: ${r.events} interactions (${r.users} users, ${r.items} items) in ${r.elapsed_s} s (${r.throughput_eps} ev/s)`,
    `  prequential quality after ${q.warmup} warm-up interactions, on ${q.evaluated}:`,
    `    co-occurrence  hit@10 ${q.hit_rate_at_10 ?? 'n/a'}  NDCG@10 ${q.ndcg_at_10 ?? 'n/a'}`,
    `    most popular   hit@10 ${q.baseline_hit_rate_at_10 ?? 'n/a'}  NDCG@10 ${q.baseline_ndcg_at_10 ?? 'n/a'}  (lift ${q.lift ?? 'n/a'}x)`,
    r.serving
      ? `  served ${r.serving.requests} requests at ${r.serving.url}: p50 ${r.serving.p50_ms} ms  p99 ${r.serving.p99_ms} ms (server side)`
      : '  no server',
  ].join('\n');
}
