/**
 * Scenario `ceiling`: the physical limits of this machine for the fraud pipeline's work: raw
 * log scan (read + decode RecordBatches), raw onnxruntime at its best batch size on
 * precomputed features, raw ledger writes (per event, at the demo's action rate). The ceiling
 * is the slowest of them; `e2e_vs_ceiling` compares the e2e scenario's rate with it.
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
import { E2E_EVENTS, lastE2e, prefilledDataDir, run as runE2e } from './e2e.js';

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

async function modelRate(): Promise<{ rate: number; batch: number }> {
  const model = await OnnxModel.load(LR_MODEL_PATH, { intraOpNumThreads: 1 });
  let best = { rate: 0, batch: 0 };
  for (const batch of [256, 1024, 4096]) {
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
  const scan = scanRate(dir);
  rmSync(dir, { recursive: true, force: true });
  const model = await modelRate();
  const ledger = ledgerRate();
  const ceiling = Math.min(scan, model.rate, ledger / ACTIONS_PER_EVENT);
  const e2e = lastE2e ?? (await runE2e());
  const eps = e2e.figures.events_per_s as number;
  return {
    figures: {
      log_scan_records_per_s: Math.round(scan),
      onnx_rows_per_s: Math.round(model.rate),
      onnx_best_batch: model.batch,
      ledger_entries_per_s: Math.round(ledger),
      ledger_events_per_s_equivalent: Math.round(ledger / ACTIONS_PER_EVENT),
      ceiling_events_per_s: Math.round(ceiling),
      e2e_events_per_s: eps,
    },
    ratios: { e2e_vs_ceiling: Number((eps / ceiling).toFixed(3)) },
  };
}
