/**
 * Scenario `scaleout`: the example payments app (examples/scaleout: decode, keyBy card through
 * the repartition topic, per-card lookback windows backed by the changelog, alert actions to a
 * Kafka topic) run by `sluice run` with 1 and then 2 worker processes against `sluice broker`
 * (6 partitions, its own process). The input is produced before the workers start; the rate is
 * the steady one, measured once the group has settled (every worker assigned), over the records
 * finished by the back halves until 90% of the input is done. N defaults to 400,000
 * (SLUICE_BENCH_SCALE_N).
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
import type { ScenarioResult } from '../run.js';

const N = Number(process.env.SLUICE_BENCH_SCALE_N ?? 400_000);
const PARTITIONS = 6;

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

async function measure(brokers: string, workers: number): Promise<{ eps: number; per_worker: number[] }> {
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
            `bench-${workers}`,
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
    const one = await measure(brokers, 1);
    const two = await measure(brokers, 2);
    return {
      figures: {
        events: N,
        partitions: PARTITIONS,
        app: 'examples/scaleout/pipeline.ts (repartition by card, lookback windows with changelog, alerts to a topic)',
        workers_1_events_per_s: one.eps,
        workers_2_events_per_s: two.eps,
        workers_2_split: two.per_worker,
      },
      ratios: { workers2_vs_1: Number((two.eps / one.eps).toFixed(3)) },
    };
  } finally {
    broker.proc.child.kill('SIGTERM');
    await broker.proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
