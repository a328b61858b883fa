/**
 * Scenario `nexmark`: each Nexmark query (examples/nexmark) over N generated events read from
 * the embedded log (JSON, one event per record), state in LMDB, exactly-once checkpoints every
 * 10 s. Per query: events/s (wall clock) and events/s per core (events over the process's CPU
 * time, LMDB's write thread included), beside Flink's published per-core figures from the
 * nexmark/nexmark README (Flink 1.13, 3 × 8-core workers, 100 M events, RocksDB, exactly-once
 * checkpoints every 3 minutes). After a warm-up of each query, ROUNDS rounds each run every
 * query once (q0, q1, …, q11, q0, …: a burst of other work hits the queries alike); a query's
 * figures are the medians of its rounds, and `nexmark_vs_flink_per_core_min` is the median of
 * the rounds' worst ratios, their min and max in `ratios_spread`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuUsage } from 'node:process';
import { LmdbCheckpointStore, logSource, pipeline, type Sink, type Stream } from '../../src/index.js';
import { Log } from '../../src/log/index.js';
import { nexmarkJson } from '../../examples/nexmark/decode.js';
import { NexmarkGenerator, type NexmarkEvent } from '../../examples/nexmark/generator.js';
import { QUERIES, type QueryName } from '../../examples/nexmark/queries/index.js';
import { median, spreadOf } from '../rounds.js';
import type { ScenarioResult } from '../run.js';

const N = Number(process.env.SLUICE_BENCH_NEXMARK_N ?? 1_000_000);
const ROUNDS = Number(process.env.SLUICE_BENCH_NEXMARK_ROUNDS ?? 5);
/** Flink's runs checkpoint every 3 minutes; 10 s here. A run shorter than that takes only its final checkpoint. */
const CHECKPOINT_MS = Number(process.env.SLUICE_BENCH_NEXMARK_CHECKPOINT_MS ?? 10_000);
const TOPIC = 'nexmark';

/** Flink's events/s per core, nexmark/nexmark README (the setup above). */
export const FLINK_PER_CORE: Record<QueryName, number> = {
  q0: 155_000,
  q1: 158_000,
  q2: 175_000,
  q3: 152_000,
  q4: 34_000,
  q5: 22_000,
  q7: 12_000,
  q8: 146_000,
  q11: 40_000,
};

/** Writes the N events into a fresh log, in appends of 4,096 records. */
function prefill(dir: string): void {
  const log = Log.open(join(dir, 'log'));
  log.createTopic(TOPIC, { partitions: 1 });
  const part = log.partition(TOPIC, 0);
  const gen = new NexmarkGenerator({ seed: 1 });
  for (let i = 0; i < N;) {
    const n = Math.min(4096, N - i);
    const records = new Array<{ key: null; value: Buffer }>(n);
    for (let j = 0; j < n; j++) records[j] = { key: null, value: Buffer.from(JSON.stringify(gen.next())) };
    part.append(records);
    i += n;
  }
  log.close();
}

interface Round {
  events_per_s: number;
  events_per_s_per_core: number;
  cores: number;
  results: number;
  checkpoints: number;
}

async function runOnce(dir: string, q: QueryName, round: number): Promise<Round> {
  const log = Log.open(join(dir, 'log'));
  const stateDir = join(dir, `state-${q}-${round}`);
  const store = LmdbCheckpointStore.open(stateDir);
  let results = 0;
  const sink: Sink<unknown> = {
    name: 'count',
    write(records) {
      results += records.length;
    },
  };
  const build = QUERIES[q] as unknown as (s: Stream<NexmarkEvent>) => Stream<unknown>;
  const cpu0 = cpuUsage();
  const t0 = performance.now();
  const events = pipeline(`nexmark-${q}`)
    .from(logSource({ log, topic: TOPIC, endWhen: 'caught-up' }))
    .decode(nexmarkJson());
  const summary = await build(events)
    .to(sink)
    .run({ checkpoints: store, checkpointIntervalMs: CHECKPOINT_MS }).done;
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuUsage(cpu0);
  await store.close();
  log.close();
  rmSync(stateDir, { recursive: true, force: true });
  if (summary.counters.in !== N || summary.counters.deadLetters !== 0)
    throw new Error(
      `nexmark ${q}: read ${summary.counters.in} of ${N}, ${summary.counters.deadLetters} dead letters`,
    );
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return {
    events_per_s: N / wallS,
    events_per_s_per_core: N / cpuS,
    cores: cpuS / wallS,
    results,
    checkpoints: summary.checkpoints,
  };
}

export async function run(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-nexmark-'));
  try {
    prefill(dir);
    const figures: Record<string, unknown> = {
      events: N,
      rounds: ROUNDS,
      checkpoint_interval_ms: CHECKPOINT_MS,
    };
    const names = Object.keys(QUERIES) as QueryName[];
    for (const q of names) await runOnce(dir, q, -1); // warm-up: the JIT, the page cache
    const rounds = Object.fromEntries(names.map((q) => [q, [] as Round[]])) as Record<QueryName, Round[]>;
    const worstByRound: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let worst = Infinity;
      for (const q of names) {
        const one = await runOnce(dir, q, r);
        rounds[q].push(one);
        worst = Math.min(worst, one.events_per_s_per_core / FLINK_PER_CORE[q]);
      }
      worstByRound.push(worst);
    }
    for (const q of names) {
      const qr = rounds[q];
      figures[q] = {
        events_per_s: Math.round(median(qr.map((r) => r.events_per_s))),
        events_per_s_per_core: Math.round(median(qr.map((r) => r.events_per_s_per_core))),
        cores: Number(median(qr.map((r) => r.cores)).toFixed(2)),
        results: qr[0]!.results,
        checkpoints: qr[0]!.checkpoints,
        flink_events_per_s_per_core: FLINK_PER_CORE[q],
        round_events_per_s_per_core: qr.map((r) => Math.round(r.events_per_s_per_core)),
      };
    }
    const spread = spreadOf(worstByRound);
    return {
      figures,
      ratios: { nexmark_vs_flink_per_core_min: spread.median },
      ratios_spread: { nexmark_vs_flink_per_core_min: spread },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
