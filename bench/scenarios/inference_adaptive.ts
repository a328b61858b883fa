/**
 * Adaptive batching scenario: a `DynamicBatcher` with `batching: { targetP99Ms }` against the
 * best static setting that meets the same p99, at three offered loads.
 *
 * The model is a simulated model server on real timers: one call at a time (the next waits
 * behind it), each taking 2 ms + 0.05 ms per row, 2 calls in flight from the batcher: the
 * `a + b·batch` shape that makes batch size and queue delay trade latency for throughput
 * (~12k rows/s at 64-row batches, ~19k at 1,024). A real runner was tried first (the fraud
 * model on `OnnxWorkerModel`: 370k rows/s): the open-loop generator of single-row requests, not
 * the model, then set the limit on this loaded 2-core machine, so the knobs decided nothing.
 * Everything else is real: the batcher, the event loop, the machine's noise. Open loop:
 * single-row requests on schedule (caught up every turn of the event loop). Then:
 * 1. the capacity is probed once (512 closed-loop callers, greedy batching), and the loads are
 *    20 %, 50 % and 85 % of it (low, medium, near saturation);
 * 2. a sweep of static settings (batch size × queue delay, below) finds the best one that
 *    meets the target at each load: most rows/s served of those offered, then the lowest p99;
 * 3. five rounds alternate adaptive and that static setting; each run's first 0.4 s is
 *    warm-up (the controller converging), then 1 s of rows/s and p99 is measured.
 * `adaptive_vs_best_static` is, per round, the worst load's throughput ratio; the ratio is the
 * median of the rounds, with min and max in `ratios_spread`.
 */
import {
  batchedModel,
  float32Tensor,
  type DynamicBatcherOptions,
  type Model,
  type ModelMetadata,
  type Tensor,
} from '../../src/inference/index.js';
import { LatencyHistogram } from '../../src/observe/index.js';

const TARGET_MS = Number(process.env.SLUICE_BENCH_TARGET_P99_MS ?? 60);
const F = 15;
const CALL_MS = 2;
const ROW_MS = 0.05;
const ROUNDS = 5;
const WARMUP_S = 0.4;
const MEASURE_S = 1;
const MAX_BATCH = 2048;
const IN_FLIGHT = 2;
const LOADS = { low: 0.2, medium: 0.5, near_saturation: 0.85 };
const STATIC_SWEEP: { maxBatchSize: number; maxQueueDelayMicros: number }[] = [];
for (const maxBatchSize of [64, 256, 1024])
  for (const maxQueueDelayMicros of [0, 5000]) STATIC_SWEEP.push({ maxBatchSize, maxQueueDelayMicros });

/** The simulated model server: calls served one at a time, CALL_MS + ROW_MS·rows each. */
class SimulatedServer implements Model {
  readonly metadata: ModelMetadata = {
    name: 'simulated',
    version: '1',
    inputs: [{ name: 'features', type: 'float32', dims: ['N', F] }],
    outputs: [{ name: 'score', type: 'float32', dims: ['N', 1] }],
  };
  #freeAt = 0;

  run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const n = inputs.features!.dims[0]!;
    const now = performance.now();
    this.#freeAt = Math.max(now, this.#freeAt) + CALL_MS + ROW_MS * n;
    const out = { score: float32Tensor(new Float32Array(n), [n, 1]) };
    return new Promise((resolve) => setTimeout(() => resolve(out), this.#freeAt - now));
  }

  async close(): Promise<void> {}
}

interface Run {
  rate: number;
  p99: number;
  meanBatch: number;
}

/** A fresh 1-row input (the worker takes its buffer), values from a fixed pool. */
function rowOf(pool: Float32Array, i: number) {
  const k = (i % (pool.length / F)) * F;
  return { features: float32Tensor(pool.slice(k, k + F), [1, F]) };
}

/** Closed loop, greedy batching: the rows/s this model serves at most. */
async function capacity(model: Model, pool: Float32Array): Promise<number> {
  const b = batchedModel(model, {
    maxBatchSize: MAX_BATCH,
    maxInFlightBatches: IN_FLIGHT,
    closeModel: false,
  });
  let done = 0;
  let stop = false;
  const caller = async (c: number): Promise<void> => {
    for (let i = c; !stop; i += 512) {
      await b.run(rowOf(pool, i));
      done++;
    }
  };
  const all = Promise.all(Array.from({ length: 512 }, (_, c) => caller(c)));
  await new Promise((r) => setTimeout(r, 300));
  const d0 = done;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1500));
  const rate = (done - d0) / ((performance.now() - t0) / 1000);
  stop = true;
  await all;
  await b.close();
  return rate;
}

/** Open loop at `rps` for warm-up + measure; rows/s completed and p99 of the measured requests. */
async function openLoop(
  model: Model,
  pool: Float32Array,
  rps: number,
  opts: DynamicBatcherOptions,
): Promise<Run> {
  // the same queue timeout for every setting: an overloaded one sheds instead of queueing for
  // minutes (what it sheds is not served, so its rate falls)
  const b = batchedModel(model, {
    ...opts,
    maxInFlightBatches: IN_FLIGHT,
    closeModel: false,
    queueTimeoutMicros: TARGET_MS * 10_000,
  });
  const hist = new LatencyHistogram();
  const pending = new Set<Promise<void>>();
  let done = 0;
  const t0 = performance.now();
  const measureAt = t0 + WARMUP_S * 1000;
  const end = measureAt + MEASURE_S * 1000;
  let sent = 0;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rps);
    for (; sent < due; sent++) {
      const start = performance.now();
      const measured = start >= measureAt;
      const p: Promise<void> = b.run(rowOf(pool, sent)).then(
        () => {
          if (measured) {
            const now = performance.now();
            hist.record(now - start);
            if (now <= end) done++;
          }
          pending.delete(p);
        },
        // shed by the queue timeout: a setting that cannot keep up, counted as not served
        () => {
          pending.delete(p);
        },
      );
      pending.add(p);
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  const s = b.stats();
  await b.close();
  return { rate: done / MEASURE_S, p99: hist.summary().p99, meanBatch: s.meanBatchRows };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<{
  figures: Record<string, unknown>;
  ratios: Record<string, number>;
  ratios_spread: Record<string, { median: number; min: number; max: number }>;
}> {
  const pool = new Float32Array(4096 * F).map((_, i) => Math.sin(i) * 2);
  const model = new SimulatedServer();
  try {
    const cap = await capacity(model, pool);
    process.stderr.write(
      `inference_adaptive: capacity ${Math.round(cap)} rows/s; sweeping static settings...\n`,
    );
    const loads = Object.entries(LOADS).map(([name, share]) => ({ name, rps: Math.round(cap * share) }));
    const best: Record<string, { setting: (typeof STATIC_SWEEP)[number]; sweep: Run }> = {};
    const sweepFigures: Record<string, unknown> = {};
    for (const { name, rps } of loads) {
      const tried: Record<string, { rows_per_s: number; p99_ms: number }> = {};
      for (const setting of STATIC_SWEEP) {
        const r = await openLoop(model, pool, rps, setting);
        tried[`${setting.maxBatchSize}/${setting.maxQueueDelayMicros}us`] = {
          rows_per_s: Math.round(r.rate),
          p99_ms: round2(r.p99),
        };
        const cur = best[name];
        const better =
          r.p99 <= TARGET_MS &&
          (cur === undefined ||
            r.rate > cur.sweep.rate * 1.01 ||
            (r.rate >= cur.sweep.rate * 0.99 && r.p99 < cur.sweep.p99));
        if (better) best[name] = { setting, sweep: r };
      }
      // no static setting met the target: compare with the one of the lowest p99
      if (best[name] === undefined) {
        const [k] = Object.entries(tried).sort((a, b) => a[1].p99_ms - b[1].p99_ms)[0]!;
        const [bs, d] = k.replace('us', '').split('/').map(Number);
        best[name] = {
          setting: { maxBatchSize: bs!, maxQueueDelayMicros: d! },
          sweep: { rate: 0, p99: Infinity, meanBatch: 0 },
        };
      }
      sweepFigures[name] = tried;
    }
    const perLoad: Record<string, { adaptive: Run[]; fixed: Run[] }> = {};
    for (const { name } of loads) perLoad[name] = { adaptive: [], fixed: [] };
    const worst: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`inference_adaptive: round ${round + 1} of ${ROUNDS}\n`);
      let roundWorst = Infinity;
      for (const { name, rps } of loads) {
        const adaptiveFirst = round % 2 === 0;
        const runAdaptive = () =>
          openLoop(model, pool, rps, { maxBatchSize: MAX_BATCH, batching: { targetP99Ms: TARGET_MS } });
        const runStatic = () => openLoop(model, pool, rps, best[name]!.setting);
        const a = adaptiveFirst ? await runAdaptive() : undefined;
        const s = await runStatic();
        const a2 = a ?? (await runAdaptive());
        perLoad[name]!.adaptive.push(a2);
        perLoad[name]!.fixed.push(s);
        roundWorst = Math.min(roundWorst, ratioOf(a2, s));
      }
      worst.push(roundWorst);
    }
    const figures: Record<string, unknown> = {
      model: `simulated model server: one call at a time, ${CALL_MS} ms + ${ROW_MS} ms per row, 2 batches in flight`,
      target_p99_ms: TARGET_MS,
      capacity_rows_per_s: Math.round(cap),
      rounds: ROUNDS,
      measure_s: MEASURE_S,
      warmup_s: WARMUP_S,
      static_sweep: sweepFigures,
    };
    for (const { name, rps } of loads) {
      const { adaptive, fixed } = perLoad[name]!;
      figures[name] = {
        offered_rows_per_s: rps,
        adaptive_rows_per_s: Math.round(median(adaptive.map((r) => r.rate))),
        adaptive_p99_ms: round2(median(adaptive.map((r) => r.p99))),
        adaptive_p99_ms_max: round2(Math.max(...adaptive.map((r) => r.p99))),
        adaptive_mean_batch_rows: round2(median(adaptive.map((r) => r.meanBatch))),
        best_static: best[name]!.setting,
        best_static_rows_per_s: Math.round(median(fixed.map((r) => r.rate))),
        best_static_p99_ms: round2(median(fixed.map((r) => r.p99))),
        ratio_median: round2(median(adaptive.map((r, i) => ratioOf(r, fixed[i]!)))),
      };
    }
    const ratio = median(worst);
    return {
      figures,
      ratios: { adaptive_vs_best_static: ratio },
      ratios_spread: {
        adaptive_vs_best_static: { median: ratio, min: Math.min(...worst), max: Math.max(...worst) },
      },
    };
  } finally {
    await model.close();
  }
}

/** Throughput ratio; a static run that served nothing (overloaded that round) counts as 1 when adaptive did not either. */
function ratioOf(adaptive: Run, fixed: Run): number {
  if (fixed.rate > 0) return adaptive.rate / fixed.rate;
  return adaptive.rate > 0 ? 2 : 1;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
