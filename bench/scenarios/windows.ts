/**
 * Scenario `windows`: a tumbling-window aggregation (count, sum, max per key and minute) over
 * 1M events through the pipeline, against a hand-written loop over arrays and Maps doing the
 * same work (per-record watermark, window assignment, firing closed windows), in one run. Both
 * must produce the same windows with the same figures, or the scenario fails.
 */
import { count, minutes, pipeline, sum, tumbling } from '../../src/index.js';
import { collect, fromArray } from '../../src/testing.js';
import { max } from '../../src/stream/index.js';
import type { ScenarioResult } from '../run.js';
import { seededRandom } from '../../src/core/random.js';
import { spreadOf } from '../rounds.js';

interface Ev {
  k: number;
  t: number;
  x: number;
}

const N = 1_000_000;
const KEYS = 1000;
const OOO = 5_000;
const SIZE = minutes(1);
const WARMUP_ROUNDS = 2;
/** Timed rounds per path (odd: the median is one of them). */
const ROUNDS = 5;

function events(): Ev[] {
  const rand = seededRandom(7);
  return Array.from({ length: N }, (_, i) => ({
    k: Math.floor(rand() * KEYS),
    t: 1_700_000_000_000 + i * 20 - Math.floor(rand() * 4000),
    x: rand() * 100,
  }));
}

interface WindowRow {
  key: number;
  start: number;
  end: number;
  n: number;
  total: number;
  top: number;
}

/** What a user would write by hand: Maps of accumulators, a watermark, a firing loop, result rows. */
function handLoop(evs: Ev[]): WindowRow[] {
  const windows = new Map<number, Map<number, [number, number, number]>>();
  let maxSeen = -Infinity;
  const out: WindowRow[] = [];
  const emit = (start: number, m: Map<number, [number, number, number]>) => {
    for (const [key, a] of m) out.push({ key, start, end: start + SIZE, n: a[0], total: a[1], top: a[2] });
  };
  let nextFire = Infinity;
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!;
    if (e.t > maxSeen) maxSeen = e.t;
    const wm = maxSeen - OOO;
    const start = Math.floor(e.t / SIZE) * SIZE;
    if (start + SIZE <= wm) continue; // late
    let byKey = windows.get(start);
    if (!byKey) {
      windows.set(start, (byKey = new Map()));
      if (start + SIZE < nextFire) nextFire = start + SIZE;
    }
    const acc = byKey.get(e.k);
    if (acc) {
      acc[0]++;
      acc[1] += e.x;
      if (e.x > acc[2]) acc[2] = e.x;
    } else byKey.set(e.k, [1, e.x, e.x]);
    if (nextFire <= wm) {
      nextFire = Infinity;
      for (const [s, m] of windows) {
        if (s + SIZE <= wm) {
          emit(s, m);
          windows.delete(s);
        } else if (s + SIZE < nextFire) nextFire = s + SIZE;
      }
    }
  }
  for (const [s, m] of windows) emit(s, m);
  return out;
}

async function viaPipeline(evs: Ev[]): Promise<WindowRow[]> {
  const out = collect<WindowRow>();
  await pipeline('bench-windows')
    .from(fromArray(evs))
    .eventTime((e) => e.t)
    .keyBy((e) => e.k)
    .window(tumbling({ size: SIZE }), { outOfOrderness: OOO })
    .aggregate({ n: count(), total: sum((e: Ev) => e.x), top: max((e: Ev) => e.x) })
    .to(out)
    .run({ batchSize: 1024 }).done;
  return out.values;
}

/** Throws unless both paths produced the same windows with the same figures (order aside). */
function assertSameRows(loop: WindowRow[], pipe: WindowRow[]): void {
  const order = (a: WindowRow, b: WindowRow) => a.start - b.start || a.key - b.key;
  const x = [...loop].sort(order);
  const y = [...pipe].sort(order);
  if (x.length !== y.length) throw new Error(`windows differ: loop ${x.length}, pipeline ${y.length}`);
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    // Same records folded in the same order: sums are bit-identical, not merely close.
    if (
      a.key !== b.key ||
      a.start !== b.start ||
      a.end !== b.end ||
      a.n !== b.n ||
      a.total !== b.total ||
      a.top !== b.top
    )
      throw new Error(`window ${i} differs: loop ${JSON.stringify(a)}, pipeline ${JSON.stringify(b)}`);
  }
}

export async function run(): Promise<ScenarioResult> {
  const evs = events();
  // Warm up both paths on the whole input until the JIT has settled (the pipeline's code tiers
  // up over ~2M records: its first full round runs ~35 % below its steady rate, the loop's
  // ~10 %), then alternate measured runs so drift hits both alike: steady state against steady
  // state, as a pipeline runs for hours.
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    handLoop(evs);
    await viaPipeline(evs);
  }
  const loopRates: number[] = [];
  const pipeRates: number[] = [];
  let windows = 0;
  let loopWindows = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    loopWindows = handLoop(evs).length;
    loopRates.push(N / ((performance.now() - t) / 1000));
    t = performance.now();
    windows = (await viaPipeline(evs)).length;
    pipeRates.push(N / ((performance.now() - t) / 1000));
  }
  if (loopWindows !== windows) throw new Error(`windows differ: loop ${loopWindows}, pipeline ${windows}`);
  // Figures checked on one more run of each, so that no round is timed holding another's rows.
  assertSameRows(handLoop(evs), await viaPipeline(evs));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(ROUNDS - 1) / 2]!;
  const loop = median(loopRates);
  const pipe = median(pipeRates);
  // The ratio is the median of the rounds' own ratios (each round's two runs side by side).
  const spread = spreadOf(pipeRates.map((p, i) => p / loopRates[i]!));
  return {
    figures: {
      events: N,
      keys: KEYS,
      windows,
      pipeline_events_per_s: Math.round(pipe),
      loop_events_per_s: Math.round(loop),
      warmup_rounds: WARMUP_ROUNDS,
      rounds: ROUNDS,
      pipeline_round_events_per_s: pipeRates.map(Math.round),
      loop_round_events_per_s: loopRates.map(Math.round),
    },
    ratios: { windows_vs_loop: spread.median },
    ratios_spread: { windows_vs_loop: spread },
  };
}
