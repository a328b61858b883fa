/**
 * The recommendations demo: a stream of user–item interactions (generated, or a CSV file)
 * goes through a pipeline that keeps each user's recent items as keyed state and updates the
 * item–item co-occurrence counts and item popularity online, while an HTTP endpoint answers
 * `GET /recommendations/{user}?k=10` from that live state. Quality is measured prequentially:
 * before an interaction updates anything, was its item in the user's current top 10? The
 * most-popular baseline is scored the same way in the same run.
 */
import { json, listState, pipeline, type Envelope, type PipelineRun, type RunSummary } from '../../index.js';
import { type ProgressSnapshot } from '../../observe/index.js';
import { GENERATOR_DEFAULTS } from './generator.js';
import { LiveRecommender, type RecommenderOptions } from './recommender.js';
import { startRecsServer } from './server.js';
import { INTERACTION_SCHEMA, generatorSource, interactionsCsvSource } from './sources.js';

export interface RecsDemoOptions {
  /** CSV of user_id,item_id,rating,timestamp; default: the latent-factor generator. */
  input?: string;
  /** Generated interactions (ignored with `input`, which is read to its end). */
  events?: number;
  seed?: number;
  users?: number;
  items?: number;
  /** Interactions per second offered; default as fast as the pipeline goes. */
  rate?: number;
  /** Interactions learned before the quality figures start. */
  warmup?: number;
  /** Recommendations per user in the evaluation. */
  k?: number;
  recommender?: RecommenderOptions;
  /** HTTP port on 127.0.0.1 (0 = any free one); no server when null. */
  port?: number | null;
  host?: string;
  /** Keep serving once the stream has ended, until `stop()` (Ctrl-C). */
  serve?: boolean;
  batchSize?: number;
  onServer?: (url: string) => void;
  onProgress?: (p: ProgressSnapshot) => void;
  onStart?: (run: PipelineRun, stop: () => void) => void;
}

export interface RecsDemoResult {
  events: number;
  users: number;
  items: number;
  dead_letters: number;
  throughput_eps: number;
  elapsed_s: number;
  latency_ms: { e2e: { p50: number; p99: number }; learn: { p50: number; p99: number } };
  quality: {
    evaluated: number;
    warmup: number;
    hit_rate_at_10: number | null;
    ndcg_at_10: number | null;
    baseline_hit_rate_at_10: number | null;
    baseline_ndcg_at_10: number | null;
    lift: number | null;
  };
  serving: { url: string; requests: number; p50_ms: number; p99_ms: number; max_ms: number } | null;
  stopped: boolean;
}

const round = (x: number, d = 4) => Number(x.toFixed(d));

/** Prequential hit rate and NDCG: each interaction checked against the list shown just before it. */
class Prequential {
  evaluated = 0;
  hits = 0;
  ndcg = 0;
  baseHits = 0;
  baseNdcg = 0;
  add(item: number, recs: { item: number }[], baseline: { item: number }[]): void {
    this.evaluated++;
    const at = recs.findIndex((r) => r.item === item);
    if (at >= 0) {
      this.hits++;
      this.ndcg += 1 / Math.log2(at + 2);
    }
    const b = baseline.findIndex((r) => r.item === item);
    if (b >= 0) {
      this.baseHits++;
      this.baseNdcg += 1 / Math.log2(b + 2);
    }
  }
}

export async function runRecsDemo(opts: RecsDemoOptions = {}): Promise<RecsDemoResult> {
  const k = opts.k ?? 10;
  const warmup = opts.warmup ?? 10_000;
  const live = new LiveRecommender(opts.recommender);
  const server =
    opts.port === null ? undefined : await startRecsServer(live, { port: opts.port ?? 0, host: opts.host });
  if (server) opts.onServer?.(server.url);
  const source = opts.input
    ? interactionsCsvSource({ path: opts.input, rate: opts.rate })
    : generatorSource({
        seed: opts.seed ?? GENERATOR_DEFAULTS.seed,
        users: opts.users ?? GENERATOR_DEFAULTS.users,
        items: opts.items ?? GENERATOR_DEFAULTS.items,
        events: opts.events ?? 200_000,
        rate: opts.rate,
      });
  const q = new Prequential();
  const window = Math.max(20, opts.recommender?.pairWindow ?? 20, opts.recommender?.queryWindow ?? 20);
  let learned = 0;
  const run = pipeline('recs')
    .from(source)
    .decode(json(INTERACTION_SCHEMA))
    .eventTime((e) => e.ts)
    .keyBy((e) => e.user)
    .withState(
      { recent: listState<number>({ maxLength: window }) },
      (e, s) => {
        // Before this interaction changes anything: what would the user have been shown?
        if (learned++ >= warmup) q.add(e.item, live.recommend(e.user, k), live.recommendPopular(e.user, k));
        // The view adopts the history before this item and adds the item itself (adopting the
        // list after the add counted the newest item twice in the user's recent items).
        live.observe(e.user, e.item, [...s.recent.get()].reverse(), e.rating);
        s.recent.add(e.item);
        return e;
      },
      { name: 'learn' },
    )
    .to({ name: 'done', write: (_: Envelope<unknown>[]) => {} })
    .run({ batchSize: opts.batchSize ?? 16, onProgress: opts.onProgress });
  let stopped = false;
  let release: () => void = () => {};
  const stop = () => {
    stopped = true;
    release();
    void run.stop();
  };
  opts.onStart?.(run, stop);
  let summary: RunSummary;
  try {
    summary = await run.done;
    if (opts.serve && server && !stopped) await new Promise<void>((resolve) => (release = resolve));
  } finally {
    await server?.close();
  }
  const e2e = summary.latencyMs.e2e;
  const learn = summary.latencyMs.stages.learn ?? e2e;
  const n = q.evaluated;
  return {
    events: summary.counters.processed,
    users: live.userCount,
    items: live.popular.size,
    dead_letters: summary.counters.deadLetters,
    throughput_eps: Math.round(summary.throughputEps),
    elapsed_s: round(summary.elapsedMs / 1000, 2),
    latency_ms: {
      e2e: { p50: round(e2e.p50, 3), p99: round(e2e.p99, 3) },
      learn: { p50: round(learn.p50, 3), p99: round(learn.p99, 3) },
    },
    quality: {
      evaluated: n,
      warmup,
      hit_rate_at_10: n ? round(q.hits / n) : null,
      ndcg_at_10: n ? round(q.ndcg / n) : null,
      baseline_hit_rate_at_10: n ? round(q.baseHits / n) : null,
      baseline_ndcg_at_10: n ? round(q.baseNdcg / n) : null,
      lift: n && q.baseHits ? round(q.hits / q.baseHits, 2) : null,
    },
    serving: server ? { url: server.url, ...server.stats() } : null,
    stopped: summary.stopped || stopped,
  };
}
