/**
 * Scenario `scaleout`: the example payments app (examples/scaleout: decode, keyBy card through
 * the repartition topic, per-card lookback windows backed by the changelog, alert actions to a
 * Kafka topic) run by `sluice run` with 1 and then 2 worker processes against `sluice broker`
 * (6 partitions, its own process). The input is produced before the workers start; the rate is
 * the steady one, measured once the group has settled (every worker assigned), over the records
 * finished by the back halves until 90% of the input is done. N defaults to 400,000
 * (SLUICE_BENCH_SCALE_N). 1 and 2 workers alternate over ROUNDS rounds (SLUICE_BENCH_SCALE_ROUNDS,
 * default 5), each round's group reading the input from its start; `workers2_vs_1` is the
 * median of the rounds' ratios, their min and max in `ratios_spread`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { producePayments } from '../../examples/scaleout/payments.js';
import {
  APP,
  assignments,
  spawnSluice,
  startBrokerProcess,
  waitFor,
  type Event,
  type Proc,
} from '../../test/scale/workers.js';
import { alternate, median, spreadOf } from '../rounds.js';
import type { ScenarioResult } from '../run.js';

const N = Number(process.env.SLUICE_BENCH_SCALE_N ?? 400_000);
const PARTITIONS = 6;
const ROUNDS = Number(process.env.SLUICE_BENCH_SCALE_ROUNDS ?? 5);

/** Records finished by the back halves so far (a run restarted by a rebalance counts from 0 again). */
function finished(events: Event[]): number {
  const last = new Map<string, { base: number; last: number }>();
  for (const e of events) {
    if (e.event !== 'progress' || e.half !== 'back') continue;
    const m = last.get(e.member) ?? { base: 0, last: 0 };
    if (e.processed < m.last) m.base += m.last;
    m.last = e.processed;
    last.set(e.member, m);
  }
  return [...last.values()].reduce((n, m) => n + m.base + m.last, 0);
}

async function measure(
  brokers: string,
  workers: number,
  round: number,
): Promise<{ eps: number; per_worker: number[] }> {
  const procs: Proc[] = [];
  try {
    for (let i = 1; i <= workers; i++) {
      procs.push(
        spawnSluice(
          [
            'run',
            APP,
            '--brokers',
            brokers,
            '--group',
            `bench-${workers}-${round}`,
            '--member',
            `w${i}`,
            '--json',
            '--progress-ms',
            '100',
          ],
          { SCALEOUT_INPUT: 'payments' },
        ),
      );
    }
    const all = () => procs.flatMap((p) => p.events);
    await waitFor(
      () => {
        const owners = assignments(all());
        return owners.size === workers && [...owners.values()].flat().length === PARTITIONS;
      },
      60_000,
      `${workers} workers to share the partitions`,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const d0 = finished(all());
    const t0 = performance.now();
    await waitFor(() => finished(all()) >= 0.9 * N, 300_000, '90% of the input to be processed');
    const eps = (finished(all()) - d0) / ((performance.now() - t0) / 1000);
    return { eps: Math.round(eps), per_worker: procs.map((p) => finished(p.events)) };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
  }
}

export async function run(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-scale-'));
  const broker = await startBrokerProcess(join(dir, 'broker'), PARTITIONS);
  try {
    const brokers = broker.address;
    await producePayments({ brokers: [brokers], topic: 'payments', partitions: PARTITIONS, events: N });
    // Each round's groups are new ones (bench-<workers>-<round>): they read the input from its start.
    let round = 0;
    const split: number[][] = [];
    const rounds = await alternate(
      ROUNDS,
      async () => {
        const two = await measure(brokers, 2, round);
        split.push(two.per_worker);
        return two.eps;
      },
      async () => (await measure(brokers, 1, round++)).eps,
    );
    const spread = spreadOf(rounds.ratios);
    return {
      figures: {
        events: N,
        partitions: PARTITIONS,
        rounds: ROUNDS,
        app: 'examples/scaleout/pipeline.ts (repartition by card, lookback windows with changelog, alerts to a topic)',
        workers_1_events_per_s: Math.round(median(rounds.b)),
        workers_2_events_per_s: Math.round(median(rounds.a)),
        workers_1_events_per_s_rounds: rounds.b,
        workers_2_events_per_s_rounds: rounds.a,
        workers_2_split_rounds: split,
      },
      ratios: { workers2_vs_1: spread.median },
      ratios_spread: { workers2_vs_1: spread },
    };
  } finally {
    broker.proc.child.kill('SIGTERM');
    await broker.proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
