/**
 * The search behind the README's "ARTime without look-ahead": every look-ahead-free configuration
 * of ARTime (`artime.ts`, `online` mode: a fixed probation in rows, the value range learned from
 * the rows so far) tried on all labelled series of a NAB folder, with and without a refractory
 * rule whose span is a fixed number of rows, each scored with one threshold per profile; then
 * the leave-one-category-out cross-validation of choosing among them (`crossValidate` of `cv.ts`).
 * Then the multi-scale hand-overs (`artime-online.ts`, `HANDOVERS`), scored from their instances'
 * scores by `handoverScores` (a test holds it to `MultiScaleARTime`), and their combinations with
 * this project's detector (`ENSEMBLES`, `ensembleScores`; a test holds it to `EnsembleDetector`).
 * Then bags of hand-overs over range settings (`BAGS`, `bagScores`; tried, not shipped).
 *
 * Nothing here is told a series' min, max or length: each base configuration scores every series
 * once (float32 values, 6-decimal scores, as the demo's results files hold them), and the
 * refractory rule is a causal function of those scores. NAB's scorer still ignores its own
 * probation (15 % of each file): that is the scorer's rule, not the detector's knowledge. The
 * list is the complete log, in the order tried: adding a configuration is one more try.
 *
 * @example
 * nice -n 19 node --import tsx research/nab/online-search.ts --nab ~/NAB --cache /tmp/online-cache
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_NAB_DIR } from './paths.js';
import type { MultiScaleConfig } from '../../src/apps/anomaly/artime-online.js';
import { ARTimeDetector, type ARTimeOnlineOptions } from '../../src/apps/anomaly/artime.js';
import { crossValidate, scoreSeries, scoreSeriesARTime } from './cv.js';
import { readLabelledSeries, readNabCorpus } from '../../src/apps/anomaly/nab-corpus.js';
import { optimizeThreshold } from '../../src/apps/anomaly/nab-scorer.js';
import { formatScore } from '../../src/apps/anomaly/results-writer.js';

/** A series' scores by look-ahead-free ARTime, as results files would hold them. */
export function scoreSeriesOnline(options: ARTimeOnlineOptions, times: number[], values: number[]): number[] {
  const d = new ARTimeDetector({ online: options });
  return values.map((v, i) => Number(formatScore(d.update(times[i]!, Math.fround(v)))));
}

/** A detection within `rows` rows after the previous detection × `factor` (causal, no length). */
export function refractoryRows(a: number[], rows: number, factor: number): number[] {
  const out = new Array<number>(a.length).fill(0);
  let last = -Infinity;
  for (let t = 0; t < a.length; t++) {
    if (!(a[t]! > 0)) continue;
    out[t] = t - last <= rows ? factor * a[t]! : a[t]!;
    last = t;
  }
  return out;
}

/**
 * A diagnostic that isolates one of NAB's two look-aheads: `minmax` is told the file's min/max
 * but a fixed probation of P rows; `length` learns the range online (`remap`) but takes its
 * probation from the file's length (15 %, at most 750), as NAB's ARTime; `perturbed` is NAB's
 * ARTime told slightly wrong ones (how narrow its peak is). Not look-ahead-free.
 */
export type Diagnostic =
  | { diagnostic: 'minmax'; probationRows: number }
  | { diagnostic: 'length'; range?: ARTimeOnlineOptions['range']; margin?: number }
  /** NAB's ARTime told a length × `lengthFactor` and a min/max widened by `widen` × the range on each side. */
  | { diagnostic: 'perturbed'; lengthFactor: number; widen: number };

/** NAB's probation of a file of n rows, as ARTime derives it. */
const nabProbation = (n: number) => (n < 5000 ? Math.floor(0.15 * n) : 750);

function scoreDiagnostic(d: Diagnostic, times: number[], values: number[]): number[] {
  const xs = values.map((v) => Math.fround(v));
  let [min, max] = [Infinity, -Infinity];
  for (const x of xs) [min, max] = [Math.min(min, x), Math.max(max, x)];
  let det: ARTimeDetector;
  if (d.diagnostic === 'perturbed') {
    const m = d.widen * (max - min);
    det = new ARTimeDetector({ min: min - m, max: max + m, length: Math.round(xs.length * d.lengthFactor) });
  } else if (d.diagnostic === 'length')
    det = new ARTimeDetector({
      online: { probationRows: nabProbation(xs.length), range: d.range ?? 'remap', margin: d.margin ?? 0 },
    });
  else {
    // A length whose 15 % is P rows: the probation is P whatever the file's length.
    det = new ARTimeDetector({ min, max, length: Math.ceil(d.probationRows / 0.15) });
    if (det.probation !== d.probationRows - (d.probationRows % 2)) throw new Error('probation');
  }
  return xs.map((x, i) => Number(formatScore(det.update(times[i]!, x))));
}

/**
 * The base (detector) configurations, in the order tried; `null` is NAB's look-ahead ARTime, a
 * reference; diagnostics are not look-ahead-free and take no part in the cross-validation.
 */
export const BASES: [string, ARTimeOnlineOptions | Diagnostic | null][] = [
  ['artime (NAB look-ahead, reference)', null],
  ['online remap P=600', { probationRows: 600, range: 'remap' }],
  ['online remap P=750', { probationRows: 750, range: 'remap' }],
  ['online clamp m=0 P=600', { probationRows: 600, range: 'clamp', margin: 0 }],
  ['online clamp m=0.25 P=600', { probationRows: 600, range: 'clamp', margin: 0.25 }],
  ['diagnostic: NAB min/max, P=600', { diagnostic: 'minmax', probationRows: 600 }],
  ['diagnostic: remap, NAB length', { diagnostic: 'length' }],
  ['diagnostic: clamp m=1, NAB length', { diagnostic: 'length', range: 'clamp', margin: 1 }],
  ['diagnostic: clamp m=2, NAB length', { diagnostic: 'length', range: 'clamp', margin: 2 }],
  ['diagnostic: remap m=0.5, NAB length', { diagnostic: 'length', margin: 0.5 }],
  ['diagnostic: remap m=1, NAB length', { diagnostic: 'length', margin: 1 }],
  ['online remap P=300', { probationRows: 300, range: 'remap' }],
  ['online remap P=450', { probationRows: 450, range: 'remap' }],
  ['online remap m=0.5 P=300', { probationRows: 300, range: 'remap', margin: 0.5 }],
  ['online remap m=0.5 P=600', { probationRows: 600, range: 'remap', margin: 0.5 }],
  // How narrow the reference's peak is: NAB's look-ahead, slightly off.
  ...[0.9, 0.95, 1.05, 1.1].map((lengthFactor): [string, Diagnostic] => [
    `diagnostic: NAB min/max, length x${lengthFactor}`,
    { diagnostic: 'perturbed', lengthFactor, widen: 0 },
  ]),
  ...[0.01, 0.05, 0.1].map((widen): [string, Diagnostic] => [
    `diagnostic: NAB length, min/max widened ${widen} x range`,
    { diagnostic: 'perturbed', lengthFactor: 1, widen },
  ]),
];

/** Refractory rules applied to every base: [rows, factor], `null` for none. */
export const REFRACTORY: ([number, number] | null)[] = [null, [80, 0.5], [150, 0.5], [300, 0.5]];

/**
 * A multi-scale hand-over (`artime-online.ts`) scored from its instances' own scores, with an
 * optional refractory rule whose span is a share of the speaking instance's probation.
 */
export interface HandoverTry extends MultiScaleConfig {
  /** [share of the speaking probation, factor]: a detection that close after the previous one × factor. */
  refractory?: [number, number];
}

const FIVE = [150, 300, 450, 600, 750];

/** The hand-over configurations, in the order tried (after every base above). */
export const HANDOVERS: [string, HandoverTry][] = [
  // 1. Which scales, and when each takes over (range: remap, no margin).
  ...[0.1, 0.15, 0.2, 0.3, 0.5, 1].flatMap((handover) =>
    [[150, 300, 600], FIVE, [200, 450, 750], [150, 750]].map((probations): [string, HandoverTry] => [
      `multi-scale P=${probations.join(',')} handover ${handover}t`,
      { probations, handover, range: 'remap', margin: 0 },
    ]),
  ),
  // 2. How the range is learned, five scales.
  ...(
    [
      ['remap', 0.25],
      ['remap', 0.5],
      ['remap', 1],
      ['clamp', 0.5],
      ['clamp', 1],
    ] as const
  ).flatMap(([range, margin]) =>
    [0.3, 0.5, 0.7].map((handover): [string, HandoverTry] => [
      `multi-scale P=${FIVE.join(',')} handover ${handover}t ${range} m=${margin}`,
      { probations: FIVE, handover, range, margin },
    ]),
  ),
  // 3. A refractory span proportional to the speaking scale.
  ...[0, 0.5].flatMap((margin) =>
    [0.13, 0.25, 0.5, 1].flatMap((share) =>
      [0.5, 0.25].map((factor): [string, HandoverTry] => [
        `multi-scale P=${FIVE.join(',')} handover 0.5t remap m=${margin} + refractory ${share}P x${factor}`,
        { probations: FIVE, handover: 0.5, range: 'remap', margin, refractory: [share, factor] },
      ]),
    ),
  ),
];

/**
 * ARTime without look-ahead combined with this project's detector (`detector.ts`, its defaults),
 * row by row: `max` = max(a, w·s), `max-scaled-artime` = max(w·a, s), `sum` = min(1, a + w·s),
 * a = ARTime's score, s = ours; optionally a refractory rule (rows × 0.5) on the result.
 */
export interface EnsembleTry {
  /** ARTime's part: a hand-over, or one instance with a fixed probation. */
  artime: HandoverTry | ARTimeOnlineOptions;
  form: 'max' | 'max-scaled-artime' | 'sum';
  weight: number;
  refractoryRows?: number;
}

const HANDOVER_M0: HandoverTry = { probations: FIVE, handover: 0.5, range: 'remap', margin: 0 };
const HANDOVER_M05: HandoverTry = { ...HANDOVER_M0, margin: 0.5 };
const ensembleName = (e: EnsembleTry) => {
  const a =
    'probations' in e.artime
      ? `multi-scale 0.5t m=${e.artime.margin}`
      : `${e.artime.range} P=${e.artime.probationRows}`;
  const f =
    e.form === 'max'
      ? `max(${a}, ${e.weight}*ours)`
      : e.form === 'sum'
        ? `min(1, ${a} + ${e.weight}*ours)`
        : `max(${e.weight}*${a}, ours)`;
  return e.refractoryRows ? `${f} + refractory ${e.refractoryRows} rows x0.5` : f;
};

/** The ensembles with this project's detector, in the order tried (after the hand-overs). */
export const ENSEMBLES: [string, EnsembleTry][] = (
  [
    ...[0.3, 0.5, 0.7, 1].map((weight) => ({ artime: HANDOVER_M0, form: 'max', weight })),
    ...[0.3, 0.5, 0.7, 1].map((weight) => ({
      artime: { probationRows: 300, range: 'remap' },
      form: 'max',
      weight,
    })),
    ...[0.3, 0.5, 0.7, 1].map((weight) => ({ artime: HANDOVER_M05, form: 'max', weight })),
    ...[0.3, 0.5, 0.7, 1].map((weight) => ({ artime: HANDOVER_M05, form: 'max-scaled-artime', weight })),
    ...[0.4, 0.6].map((weight) => ({ artime: HANDOVER_M05, form: 'max', weight })),
    ...[0.3, 0.5].map((weight) => ({ artime: HANDOVER_M05, form: 'sum', weight })),
    ...[50, 100, 200].map((refractoryRows) => ({
      artime: HANDOVER_M05,
      form: 'max',
      weight: 0.5,
      refractoryRows,
    })),
  ] as EnsembleTry[]
).map((e) => [ensembleName(e), e]);

/**
 * Bagging ARTime over range settings: the power mean (exponent `power`) of several multi-scale
 * hand-overs that learn the range in different ways, row by row; with `oursWeight`, then
 * max(that, oursWeight × ours). Whether ARTime catches a window flips with small changes of the
 * range, so averaging the settings was tried against that variance (README, step 4). Not shipped.
 */
export interface BagTry {
  members: HandoverTry[];
  power: number;
  oursWeight?: number;
}

const RANGE_SETTINGS: [string, ARTimeOnlineOptions['range'], number][] = [
  ['r0', 'remap', 0],
  ['r.25', 'remap', 0.25],
  ['r.5', 'remap', 0.5],
  ['r1', 'remap', 1],
  ['c.5', 'clamp', 0.5],
  ['c1', 'clamp', 1],
];

/** The bags, in the order tried (after the ensembles): member sets × hand-overs × power × ours' weight. */
export const BAGS: [string, BagTry][] = [[0.5], [0.3, 0.5, 0.7]].flatMap((handovers) =>
  [RANGE_SETTINGS, RANGE_SETTINGS.slice(0, 4), [2, 3, 5].map((k) => RANGE_SETTINGS[k]!)].flatMap((ranges) =>
    [1, 2, 3].flatMap((power) =>
      [undefined, 0.2, 0.3, 0.5].map((oursWeight): [string, BagTry] => {
        const bag = `bag h=${handovers.join('/')} ${ranges.map(([n]) => n).join(',')} p=${power}`;
        const members = ranges.flatMap(([, range, margin]) =>
          handovers.map((handover): HandoverTry => ({ probations: FIVE, handover, range, margin })),
        );
        return [oursWeight ? `max(${bag}, ${oursWeight}*ours)` : bag, { members, power, oursWeight }];
      }),
    ),
  ),
);

/** A bag's scores from its members' scores (`members[m][series][row]`) and ours. */
export function bagScores(b: BagTry, members: number[][][], ours: number[][]): number[][] {
  const p = b.power;
  const mean = members[0]!.map((row, f) =>
    row.map((_, t) => {
      let sum = 0;
      for (const m of members) sum += m[f]![t]! ** p;
      return (sum / members.length) ** (1 / p);
    }),
  );
  if (!b.oursWeight) return mean;
  return ensembleScores({ artime: b.members[0]!, form: 'max', weight: b.oursWeight }, mean, ours);
}

/** An ensemble's scores from ARTime's (`a[series][row]`) and ours (`s[series][row]`). */
export function ensembleScores(e: EnsembleTry, a: number[][], s: number[][]): number[][] {
  const w = e.weight;
  const combined = a.map((row, f) =>
    row.map((x, t) => {
      const y = s[f]![t]!;
      return e.form === 'max'
        ? Math.max(x, w * y)
        : e.form === 'sum'
          ? Math.min(1, x + w * y)
          : Math.max(w * x, y);
    }),
  );
  return e.refractoryRows ? combined.map((r) => refractoryRows(r, e.refractoryRows!, 0.5)) : combined;
}

/**
 * A hand-over's scores from its instances' scores (`scales[k][series][row]`, instance k with
 * `probations[k]`): what `MultiScaleARTime` emits, plus the optional refractory rule.
 */
export function handoverScores(h: HandoverTry, scales: number[][][]): number[][] {
  return scales[0]!.map((_, f) => {
    let k = 0;
    let last = -Infinity;
    return scales[0]![f]!.map((_, t) => {
      while (k + 1 < h.probations.length && h.probations[k + 1]! <= h.handover * (t + 1)) k++;
      let a = scales[k]![f]![t]!;
      if (h.refractory && a > 0) {
        if (t - last <= h.refractory[0] * h.probations[k]!) a *= h.refractory[1];
        last = t;
      }
      return a;
    });
  });
}

const round = (x: number) => Number(x.toFixed(2));

/** One configuration's figures on the corpus, one threshold per profile. */
interface Tried {
  name: string;
  /** False for the look-ahead reference and diagnostics. */
  online: boolean;
  standard: number;
  reward_low_FP_rate: number;
  reward_low_FN_rate: number;
  standard_tp_fp_fn: string;
}

/** The tries log (`online-tries.txt`): one line a configuration, in the order tried. */
function logText(tried: Tried[]): string {
  const head = [
    "# Every configuration of ARTime without look-ahead tried on NAB's 58 series (research/nab/online-search.ts), in the order tried.",
    "# name | standard / reward_low_FP_rate / reward_low_FN_rate | TP/FP/FN and threshold at the standard profile's threshold.",
    "# P = the detector's own probation in rows (fixed); remap / clamp / m = how the value range is learned (artime.ts, ARTimeOnlineOptions);",
    '# refractory N rows xf = a detection within N rows of the previous one multiplied by f.',
    '# multi-scale P=a,b,.. handover h·t = instances with those probations, row t scored by the longest P <= h·t (artime-online.ts);',
    "#   refractory sP xf there = a detection within s × the speaking instance's probation of the previous one multiplied by f.",
    "# ours = this project's detector (detector.ts, defaults); max(a, w*ours) etc. = row-by-row combinations of the two (ensemble.ts ships one).",
    '# bag h=.. r0,c1,.. p=k = the power mean (exponent k) of multi-scale hand-overs with those range settings (r = remap, c = clamp, number = margin).',
    "# [look-ahead] = told each file's min/max and/or row count (the reference, and diagnostics isolating each look-ahead): not candidates.",
    `# ${tried.filter((t) => t.online).length} look-ahead-free configurations, ${tried.filter((t) => !t.online).length} with look-ahead.`,
  ];
  const pad = Math.max(...tried.map((t) => t.name.length)) + 14;
  const f = (x: number) => x.toFixed(2).padStart(5);
  const lines = tried.map(
    (t) =>
      `${(t.online ? t.name : `[look-ahead] ${t.name}`).padEnd(pad)} ${f(t.standard)} / ${f(t.reward_low_FP_rate)} / ${f(t.reward_low_FN_rate)}   std tp/fp/fn ${t.standard_tp_fp_fn}`,
  );
  return [...head, ...lines, ''].join('\n');
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      nab: { type: 'string', default: DEFAULT_NAB_DIR },
      cache: { type: 'string' },
      bases: { type: 'string' },
      log: { type: 'string' },
    },
  });
  const corpus = readNabCorpus(flags.nab!);
  const { labelled, data, base } = readLabelledSeries(corpus);
  if (flags.cache) mkdirSync(flags.cache, { recursive: true });
  const only = flags.bases?.split(',').map(Number);
  const bases = BASES.filter((_, b) => !only || only.includes(b));
  /** Every series scored by one base (cached by its options: hand-overs share their instances). */
  const memo = new Map<string, number[][]>();
  /** Every series scored once per key: kept in memory (hand-overs and ensembles share bases), and on disk with --cache. */
  const cached = (name: string, key: string, score: (d: (typeof data)[number]) => number[]): number[][] => {
    const hit = memo.get(key);
    if (hit) return hit;
    const file = flags.cache && join(flags.cache, `${key.replace(/[^\w.=-]+/g, '_')}.json`);
    let s: number[][];
    if (file && existsSync(file)) s = JSON.parse(readFileSync(file, 'utf8')) as number[][];
    else {
      const started = Date.now();
      s = data.map(score);
      if (file) writeFileSync(file, JSON.stringify(s));
      process.stderr.write(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
    memo.set(key, s);
    return s;
  };
  const scored = (name: string, options: ARTimeOnlineOptions | Diagnostic | null): number[][] =>
    cached(name, options ? JSON.stringify({ margin: 0, ...options }) : 'reference', (d) =>
      !options
        ? scoreSeriesARTime(d.times, d.values)
        : 'diagnostic' in options
          ? scoreDiagnostic(options, d.times, d.values)
          : scoreSeriesOnline(options, d.times, d.values),
    );
  const baseScores = bases.map(([name, options]) => scored(name, options));
  const list: { name: string; online: boolean; scores: number[][] }[] = [];
  bases.forEach(([name, options], b) => {
    for (const r of REFRACTORY)
      list.push({
        name: r ? `${name} + refractory ${r[0]} rows x${r[1]}` : name,
        online: options !== null && !('diagnostic' in options),
        scores: r ? baseScores[b]!.map((a) => refractoryRows(a, r[0], r[1])) : baseScores[b]!,
      });
  });
  /** A hand-over's scores, derived once per configuration (the ensembles and bags share them). */
  const handovers = new Map<string, number[][]>();
  const handover = (h: HandoverTry) => {
    const key = JSON.stringify(h);
    let s = handovers.get(key);
    if (!s) {
      s = handoverScores(
        h,
        h.probations.map((p) =>
          scored(`online ${h.range} m=${h.margin} P=${p}`, {
            probationRows: p,
            range: h.range,
            margin: h.margin,
          }),
        ),
      );
      handovers.set(key, s);
    }
    return s;
  };
  if (!only) {
    for (const [name, h] of HANDOVERS) list.push({ name, online: true, scores: handover(h) });
    const ours = cached('ours (detector.ts defaults)', 'ours', (d) => scoreSeries({}, d.times, d.values));
    for (const [name, e] of ENSEMBLES) {
      const a =
        'probations' in e.artime
          ? handover(e.artime)
          : scored(`online P=${e.artime.probationRows}`, e.artime);
      list.push({ name, online: true, scores: ensembleScores(e, a, ours) });
    }
    for (const [name, b] of BAGS)
      list.push({ name, online: true, scores: bagScores(b, b.members.map(handover), ours) });
  }
  const tried = list.map(({ name, online, scores }) => {
    const figures: Record<string, number> = {};
    let tpFpFn = '';
    for (const [profile, p] of Object.entries(corpus.profiles)) {
      const r = optimizeThreshold(
        base.map((b, i) => ({ ...b, scores: scores[i]! })),
        p,
      );
      figures[profile] = round(r.score);
      if (profile === 'standard') tpFpFn = `${r.tp}/${r.fp}/${r.fn} thr ${r.threshold.toFixed(4)}`;
    }
    return { name, online, ...figures, standard_tp_fp_fn: tpFpFn } as Tried;
  });
  const groups = labelled.map((s) => s.relPath.split('/')[0]!);
  const online = list.filter((c) => c.online);
  const cv = online.length
    ? crossValidate(
        base,
        online.map((c) => c.scores),
        groups,
        corpus.profiles,
      )
    : undefined;
  // The best look-ahead-free configuration alone: each fold only chooses its thresholds.
  const best = tried.reduce(
    (x, y, c) => (y.online && (x < 0 || y.standard > tried[x]!.standard) ? c : x),
    -1,
  );
  const bestCv = best >= 0 ? crossValidate(base, [list[best]!.scores], groups, corpus.profiles) : undefined;
  if (flags.log) writeFileSync(flags.log, logText(tried));
  console.log(
    JSON.stringify({
      series: labelled.length,
      tried,
      best_online:
        best >= 0 ? { name: tried[best]!.name, category_cv: { ...bestCv, chosen: undefined } } : null,
      category_cv: cv && {
        ...cv,
        chosen: cv.chosen.map((f) => ({
          held_out: groups[base.findIndex((b) => b.name === f.test[0])],
          candidate: online[f.candidate]!.name,
        })),
      },
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
