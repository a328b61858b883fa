/**
 * The search behind the README's "On all 58 NAB series": every configuration tried for combining
 * ARTime (`artime.ts`) with this project's detector (`detector.ts`), each scored on all labelled
 * series of a NAB folder with one threshold per profile, then the leave-one-category-out
 * cross-validation of choosing among them (`crossValidate` of `cv.ts`).
 *
 * Each series is scored once by each detector (as the demo's results files hold the scores);
 * every combination is a causal function of the two score arrays (row t uses rows 1..t, and the
 * series' length, as NAB's runner grants), scored offline. The list is the complete log, in the
 * order tried: adding a configuration here is one more try, and it must be reported as such.
 *
 * @example
 * nice -n 19 node --import tsx research/nab/ensemble-search.ts --nab ~/NAB > /tmp/search.json
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_NAB_DIR } from './paths.js';
import { crossValidate, scoreSeries, scoreSeriesARTime } from './cv.js';
import { readLabelledSeries, readNabCorpus } from '../../src/apps/anomaly/nab-corpus.js';
import { optimizeThreshold } from '../../src/apps/anomaly/nab-scorer.js';

/** One series' scores by both detectors: `a` ARTime's, `s` this project's detector's. */
export interface Pair {
  a: number[];
  s: number[];
}
export type Combination = (p: Pair) => number[];

/** ARTime rows × f unless ours fired in the last B rows; re-emitted (+ bonus) when ours fires within D rows after. */
function confirm(f: number, B: number, D: number, bonus: number): Combination {
  return ({ a, s }) => {
    const out = new Array<number>(a.length).fill(0);
    let lastS = -Infinity;
    let pending: [number, number][] = [];
    for (let t = 0; t < a.length; t++) {
      if (s[t]! > 0) {
        lastS = t;
        let best = 0;
        for (const [r, sc] of pending) if (t - r <= D) best = Math.max(best, sc);
        if (best > 0) out[t] = Math.max(out[t]!, Math.min(1, best + bonus));
        pending = [];
      }
      if (a[t]! > 0) {
        if (t - lastS <= B) out[t] = Math.max(out[t]!, Math.min(1, a[t]! + bonus));
        else {
          out[t] = Math.max(out[t]!, f * a[t]!);
          pending.push([t, a[t]!]);
        }
      }
      while (pending.length > 0 && t - pending[0]![0] > D) pending.shift();
    }
    return out;
  };
}

/** Each ARTime detection emitted once: at once if ours fired in the last B rows, else at ours' next row within D, else D rows late × f. */
function delayDecide(f: number, B: number, D: number): Combination {
  return ({ a, s }) => {
    const out = new Array<number>(a.length).fill(0);
    let lastS = -Infinity;
    let pending: [number, number][] = [];
    for (let t = 0; t < a.length; t++) {
      const fired = s[t]! > 0;
      if (fired) lastS = t;
      const keep: [number, number][] = [];
      for (const [r, sc] of pending) {
        if (fired) out[t] = Math.max(out[t]!, sc);
        else if (t - r >= D) out[t] = Math.max(out[t]!, f * sc);
        else keep.push([r, sc]);
      }
      pending = keep;
      if (a[t]! > 0) {
        if (t - lastS <= B) out[t] = Math.max(out[t]!, a[t]!);
        else pending.push([t, a[t]!]);
      }
    }
    return out;
  };
}

/**
 * ARTime with a refractory rule: a detection within R × rows of ARTime's previous one × f,
 * unless ours fired in the last B rows (B < 0: never), or (`beat`) unless stronger than the previous.
 */
function refractory(f: number, R: number, B = -1, beat = false): Combination {
  return ({ a, s }) => {
    const out = new Array<number>(a.length).fill(0);
    let last = -Infinity;
    let lastA = 0;
    let lastS = -Infinity;
    for (let t = 0; t < a.length; t++) {
      if (s[t]! > 0) lastS = t;
      if (!(a[t]! > 0)) continue;
      const damp = t - last <= R * a.length && !(B >= 0 && t - lastS <= B) && !(beat && a[t]! > lastA);
      out[t] = damp ? f * a[t]! : a[t]!;
      last = t;
      lastA = a[t]!;
    }
    return out;
  };
}

/** ARTime plus our rows ≥ L at score c, where ARTime was silent in the last R × rows. */
function addStrong(L: number, c: number, R: number): Combination {
  return ({ a, s }) => {
    const out = a.slice();
    let last = -Infinity;
    for (let t = 0; t < a.length; t++) {
      if (a[t]! > 0) last = t;
      if (s[t]! >= L && t - last > R * a.length) out[t] = Math.max(out[t]!, c);
    }
    return out;
  };
}

/** Every configuration tried, in order (96). */
export function candidates(): [string, Combination][] {
  const c: [string, Combination][] = [
    ['artime', (p) => p.a],
    ['sluice', (p) => p.s],
  ];
  for (const w of [0.25, 0.5, 0.75, 1])
    c.push([`max(a, ${w}*s)`, ({ a, s }) => a.map((x, i) => Math.max(x, w * s[i]!))]);
  for (const w of [0.25, 0.5, 1]) c.push([`a + ${w}*s`, ({ a, s }) => a.map((x, i) => x + w * s[i]!)]);
  for (const f of [0.5, 0.7, 0.85])
    for (const B of [0, 12, 50])
      for (const D of [12, 30])
        for (const bonus of [0, 0.2])
          c.push([`confirm f=${f} B=${B} D=${D} bonus=${bonus}`, confirm(f, B, D, bonus)]);
  for (const f of [0.6, 0.8, 0.9])
    for (const B of [0, 12])
      for (const D of [6, 12, 24]) c.push([`delayDecide f=${f} B=${B} D=${D}`, delayDecide(f, B, D)]);
  for (const f of [0.5, 0.8, 0.9])
    for (const R of [0.02, 0.05, 0.1]) c.push([`refractory f=${f} R=${R}n`, refractory(f, R)]);
  for (const L of [0.84, 0.9, 0.95])
    for (const v of [0.32, 0.5])
      for (const R of [0, 0.05]) c.push([`addStrong L=${L} c=${v} R=${R}n`, addStrong(L, v, R)]);
  for (const f of [0.5, 0.8])
    for (const R of [0.02, 0.05])
      for (const B of [12, 50]) c.push([`refractoryConfirm f=${f} R=${R}n B=${B}`, refractory(f, R, B)]);
  for (const f of [0.5, 0.8])
    for (const R of [0.02, 0.05]) c.push([`refractoryBeat f=${f} R=${R}n`, refractory(f, R, -1, true)]);
  return c;
}

const round = (x: number) => Number(x.toFixed(2));

function main(): void {
  const { values: flags } = parseArgs({ options: { nab: { type: 'string', default: DEFAULT_NAB_DIR } } });
  const corpus = readNabCorpus(flags.nab!);
  const { labelled, data, base } = readLabelledSeries(corpus);
  const pairs: Pair[] = data.map((d) => ({
    a: scoreSeriesARTime(d.times, d.values),
    s: scoreSeries({}, d.times, d.values),
  }));
  const list = candidates();
  const scores = list.map(([, f]) => pairs.map(f));
  const tried = list.map(([name], c) => {
    const figures: Record<string, number> = {};
    let tpFpFn = '';
    for (const [profile, p] of Object.entries(corpus.profiles)) {
      const r = optimizeThreshold(
        base.map((b, i) => ({ ...b, scores: scores[c]![i]! })),
        p,
      );
      figures[profile] = round(r.score);
      if (profile === 'standard') tpFpFn = `${r.tp}/${r.fp}/${r.fn}`;
    }
    return { name, ...figures, standard_tp_fp_fn: tpFpFn };
  });
  const groups = labelled.map((s) => s.relPath.split('/')[0]!);
  const cv = crossValidate(base, scores, groups, corpus.profiles);
  console.log(
    JSON.stringify({
      series: labelled.length,
      tried,
      category_cv: {
        ...cv,
        chosen: cv.chosen.map((f) => ({
          held_out: groups[base.findIndex((b) => b.name === f.test[0])],
          candidate: list[f.candidate]![0],
        })),
      },
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
