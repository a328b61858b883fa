/**
 * Scenario `kafkats`: a TypeScript peer side by side. The same tumbling-window count per key
 * (1-minute windows, 1,000 keys, event time in the record) over the same input in the same
 * `sluice broker` (in-process), read over the Kafka protocol by both: Sluice (`kafkaSource`, JSON
 * decode, LMDB checkpoints every second) and `@kafkats/flow` 0.12 (the Kafka Streams-style
 * TypeScript library: `groupByKey().windowedBy(TimeWindows.of(1m)).count()`). Both must produce
 * the same count for every (key, window), or the scenario fails. `vs_kafkats_flow` is the median
 * of the per-round ratios of 5 alternating rounds; each side's time runs from its start (group
 * join included) to its last result.
 *
 * kafkats runs with its state in memory (`changelog: false`), its fastest setting, while Sluice
 * keeps its checkpoints on: the comparison leans towards the peer. Its default, a changelog topic
 * written per update, is measured once on a smaller input for context (`kafkats_flow_changelog_*`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flow, json as kjson, string as kstring, TimeWindows } from '@kafkats/flow';
import { startBroker, type RunningBroker } from '../../src/broker/index.js';
import {
  LmdbCheckpointStore,
  count,
  json,
  kafkaSource,
  minutes,
  pipeline,
  tumbling,
  type Sink,
} from '../../src/index.js';
import { alternate, median, spreadOf } from '../rounds.js';
import type { ScenarioResult } from '../run.js';

const N = Number(process.env.SLUICE_BENCH_KAFKATS_N ?? 200_000);
const ROUNDS = Number(process.env.SLUICE_BENCH_KAFKATS_ROUNDS ?? 5);
const CHANGELOG_N = Math.min(10_000, N);
const KEYS = 1000;
const SIZE = minutes(1);
const T0 = 1_700_000_000_000;
const TOPIC = 'events';

/** Final count per `${key}@${windowStart}`. */
type Counts = Map<string, number>;

function fill(broker: RunningBroker, topic: string, n: number): void {
  broker.log.createTopic(topic, { partitions: 1 });
  const part = broker.log.partition(topic, 0);
  for (let i = 0; i < n;) {
    const m = Math.min(4096, n - i);
    const records = [];
    for (let j = i; j < i + m; j++) {
      // Keys spread by a multiplicative hash: every key in every window, in no order.
      const k = (Math.imul(j, 2654435761) >>> 0) % KEYS;
      const t = T0 + j * 10;
      records.push({
        key: Buffer.from(String(k)),
        value: Buffer.from(JSON.stringify({ k, t })),
        timestamp: t,
      });
    }
    part.append(records);
    i += m;
  }
}

let runs = 0;

async function viaSluice(broker: RunningBroker, topic: string): Promise<{ eps: number; counts: Counts }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bench-kafkats-'));
  const store = LmdbCheckpointStore.open(stateDir);
  const counts: Counts = new Map();
  const sink: Sink<{ key: unknown; start: number; end: number; n: number }> = {
    name: 'counts',
    write(records) {
      for (const r of records) counts.set(`${r.value.key}@${r.value.start}`, r.value.n);
    },
  };
  const t = performance.now();
  await pipeline('bench-kafkats')
    .from(
      kafkaSource({
        brokers: broker.address,
        topic,
        groupId: `sluice-${++runs}`,
        endWhen: 'caught-up',
        onWarning: () => {},
      }),
    )
    .decode(json({ k: 'integer', t: 'integer' }))
    .eventTime((e) => e.t)
    .keyBy((e) => e.k)
    .window(tumbling({ size: SIZE }))
    .aggregate({ n: count() })
    .to(sink)
    .run({ checkpoints: store, checkpointIntervalMs: 1000 }).done;
  const eps = N / ((performance.now() - t) / 1000);
  await store.close();
  rmSync(stateDir, { recursive: true, force: true });
  return { eps, counts };
}

async function viaKafkats(
  broker: RunningBroker,
  topic: string,
  n: number,
  changelog: boolean,
): Promise<{ eps: number; counts: Counts }> {
  const app = flow({
    applicationId: `kafkats-${++runs}`,
    client: { brokers: [broker.address], clientId: 'bench-kafkats' },
  });
  const counts: Counts = new Map();
  let updates = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  app
    .stream(topic, { key: kstring(), value: kjson<{ k: number; t: number }>(), offsetReset: 'earliest' })
    .groupByKey()
    .windowedBy(TimeWindows.of(SIZE))
    .count({ changelog })
    .toStream()
    .peek((w, c) => {
      // An update per record (Kafka Streams without a cache): the last one per window is final.
      counts.set(`${w!.key}@${w!.window.start}`, c!);
      if (++updates === n) finished();
    });
  const t = performance.now();
  await app.start();
  await done;
  const eps = n / ((performance.now() - t) / 1000);
  await app.close();
  return { eps, counts };
}

function assertSame(a: Counts, b: Counts): void {
  if (a.size !== b.size) throw new Error(`windows differ: sluice ${a.size}, kafkats ${b.size}`);
  for (const [k, n] of a)
    if (b.get(k) !== n) throw new Error(`window ${k}: sluice ${n}, kafkats ${b.get(k)}`);
}

export async function run(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-kafkats-broker-'));
  const broker = await startBroker({ port: 0, dataDir: dir, partitions: 1 });
  try {
    fill(broker, TOPIC, N);
    // Untimed first round of each: compiles both, and checks that both count the same.
    const s0 = await viaSluice(broker, TOPIC);
    const k0 = await viaKafkats(broker, TOPIC, N, false);
    assertSame(s0.counts, k0.counts);
    const rounds = await alternate(
      ROUNDS,
      async () => (await viaSluice(broker, TOPIC)).eps,
      async () => (await viaKafkats(broker, TOPIC, N, false)).eps,
    );
    fill(broker, 'events-small', CHANGELOG_N);
    const withChangelog = await viaKafkats(broker, 'events-small', CHANGELOG_N, true);
    const spread = spreadOf(rounds.ratios);
    return {
      figures: {
        events: N,
        keys: KEYS,
        windows: s0.counts.size,
        sluice_events_per_s: Math.round(median(rounds.a)),
        sluice_events_per_s_rounds: rounds.a.map(Math.round),
        kafkats_flow_events_per_s: Math.round(median(rounds.b)),
        kafkats_flow_events_per_s_rounds: rounds.b.map(Math.round),
        kafkats_flow_changelog_events: CHANGELOG_N,
        kafkats_flow_changelog_events_per_s: Math.round(withChangelog.eps),
        results_equal: true,
      },
      ratios: { vs_kafkats_flow: spread.median },
      ratios_spread: { vs_kafkats_flow: spread },
    };
  } finally {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
