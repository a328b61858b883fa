/**
 * Scenario `e2e`: the fraud pipeline end to end (embedded log -> JSON decode -> windowed
 * features -> ONNX model -> idempotent ledger action, durable checkpoints on), measured
 * (1) at full speed over a log pre-filled with N transactions, and (2) at a fixed offered load
 * of 20,000 events/s, for the end-to-end latency from log append to action done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFraudDemo } from '../../src/apps/fraud/demo.js';
import { produceTransactions } from '../../src/apps/fraud/producer.js';
import { Log } from '../../src/log/index.js';
import type { ScenarioResult } from '../run.js';

export const E2E_EVENTS = 300_000;
const POPULATION = { seed: 42, customers: 1000, terminals: 2000, badRate: 0 };

/** Fills a fresh data dir's log with `events` transactions, before any pipeline runs. */
export async function prefilledDataDir(events: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-e2e-'));
  const log = Log.open(join(dir, 'log'));
  log.createTopic('transactions', { partitions: 1 });
  await produceTransactions(log.partition('transactions', 0), { ...POPULATION, events }).done;
  log.close();
  return dir;
}

/** The last result in this process, so `ceiling` can compare without running e2e twice. */
export let lastE2e: ScenarioResult | undefined;

export async function run(): Promise<ScenarioResult> {
  const full: number[] = [];
  for (let round = 0; round < 2; round++) {
    const dir = await prefilledDataDir(E2E_EVENTS);
    const r = await runFraudDemo({ ...POPULATION, events: E2E_EVENTS, dataDir: dir });
    if (r.processed + r.dead_letters !== E2E_EVENTS)
      throw new Error(`e2e lost records: ${JSON.stringify(r)}`);
    full.push(r.throughput_eps);
    rmSync(dir, { recursive: true, force: true });
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-e2e-rate-'));
  const paced = await runFraudDemo({ ...POPULATION, events: 200_000, rate: 20_000, dataDir: dir });
  rmSync(dir, { recursive: true, force: true });
  lastE2e = {
    figures: {
      events: E2E_EVENTS,
      events_per_s: Math.max(...full),
      at_20k: {
        offered_eps: 20_000,
        achieved_eps: paced.throughput_eps,
        e2e_ms: paced.latency_ms.e2e,
        stages_ms: paced.latency_ms.stages,
      },
      p99_ms_at_20k: paced.latency_ms.e2e.p99,
    },
    ratios: {},
  };
  return lastE2e;
}
