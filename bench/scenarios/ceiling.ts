/**
 * Scenario `ceiling`: the physical limits of this machine for the fraud pipeline's work: raw
 * log scan (read + decode RecordBatches), raw onnxruntime at its best batch size on
 * precomputed features, raw ledger writes (per event, at the demo's action rate). The ceiling
 * is the slowest of them; `e2e_vs_ceiling` compares the e2e pipeline's rate with it, over
 * alternating rounds (a pipeline round as e2e's, then the three raw parts), as the median of
 * the rounds' ratios with their spread. The first round finds onnxruntime's best batch size
 * (256, 1,024 or 4,096), the later ones measure at it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { LR_MODEL_PATH } from '../../src/apps/fraud/model-info.js';
import { OnnxModel } from '../../src/index.js';
import { ActionLedger } from '../../src/actions/index.js';
import { Log } from '../../src/log/index.js';
import { float32Tensor } from '../../src/inference/index.js';
import type { ScenarioResult } from '../run.js';
import { median, spreadOf } from '../rounds.js';
import { E2E_EVENTS, pipelineRound, prefilledDataDir } from './e2e.js';

const ROUNDS = Number(process.env.SLUICE_BENCH_CEILING_ROUNDS ?? 5);

/** Alerts per transaction in the demo (about 0.7 %): the ledger writes that many per event. */
const ACTIONS_PER_EVENT = 0.0074;

function scanRate(dir: string): number {
  const log = Log.open(join(dir, 'log'));
  const p = log.partition('transactions', 0);
  const t = performance.now();
  let offset = 0;
  let n = 0;
  while (offset < p.highWatermark) {
    const { records, nextOffset } = p.read(offset, 1 << 20);
    n += records.length;
    offset = nextOffset;
  }
  const rate = n / ((performance.now() - t) / 1000);
  log.close();
  return rate;
}

async function modelRate(batches: number[]): Promise<{ rate: number; batch: number }> {
  const model = await OnnxModel.load(LR_MODEL_PATH, { intraOpNumThreads: 1 });
  let best = { rate: 0, batch: 0 };
  for (const batch of batches) {
    const x = float32Tensor(
      new Float32Array(batch * MODEL_WIDTH).map((_, i) => (i % 97) / 10),
      [batch, MODEL_WIDTH],
    );
    for (let i = 0; i < 20; i++) await model.run({ features: x });
    const t = performance.now();
    let rows = 0;
    while (performance.now() - t < 1000) {
      await model.run({ features: x });
      rows += batch;
    }
    const rate = rows / ((performance.now() - t) / 1000);
    if (rate > best.rate) best = { rate, batch };
  }
  await model.close();
  return best;
}

function ledgerRate(): number {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-ledger-'));
  const ledger = ActionLedger.open(join(dir, 'l.jsonl'));
  const n = 200_000;
  const t = performance.now();
  for (let i = 0; i < n; i += 256) {
    const entries = [];
    for (let j = i; j < i + 256; j++)
      entries.push({
        key: `fraud/alert/transactions-0@${j}`,
        action: 'alert',
        payload: { tx: j, score: 0.97 },
        time: 0,
      });
    ledger.record(entries);
  }
  ledger.flush();
  const rate = n / ((performance.now() - t) / 1000);
  ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

export async function run(): Promise<ScenarioResult> {
  const dir = await prefilledDataDir(E2E_EVENTS);
  await pipelineRound(dir); // untimed: the pipeline's code compiled before the timed rounds
  const rounds: { e2e: number; scan: number; model: number; ledger: number; ceiling: number }[] = [];
  let batch = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const e2e = await pipelineRound(dir);
    const scan = scanRate(dir);
    const model = await modelRate(batch === 0 ? [256, 1024, 4096] : [batch]);
    batch = model.batch;
    const ledger = ledgerRate();
    const ceiling = Math.min(scan, model.rate, ledger / ACTIONS_PER_EVENT);
    rounds.push({ e2e, scan, model: model.rate, ledger, ceiling });
  }
  rmSync(dir, { recursive: true, force: true });
  const med = (f: (r: (typeof rounds)[number]) => number) => Math.round(median(rounds.map(f)));
  const spread = spreadOf(rounds.map((r) => r.e2e / r.ceiling));
  return {
    figures: {
      rounds: ROUNDS,
      log_scan_records_per_s: med((r) => r.scan),
      onnx_rows_per_s: med((r) => r.model),
      onnx_best_batch: batch,
      ledger_entries_per_s: med((r) => r.ledger),
      ledger_events_per_s_equivalent: med((r) => r.ledger / ACTIONS_PER_EVENT),
      ceiling_events_per_s: med((r) => r.ceiling),
      e2e_events_per_s: med((r) => r.e2e),
      ceiling_events_per_s_rounds: rounds.map((r) => Math.round(r.ceiling)),
      e2e_events_per_s_rounds: rounds.map((r) => r.e2e),
    },
    ratios: { e2e_vs_ceiling: spread.median },
    ratios_spread: { e2e_vs_ceiling: spread },
  };
}
