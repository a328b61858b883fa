/**
 * Draws bench/chart.png from a bench result (default bench/results/latest.json): throughput of
 * Sluice next to each scenario's baseline (log scale), and the p99 latencies measured at a fixed
 * offered load, against their targets. The chart is an SVG page rendered by headless Chromium.
 *
 *   node --import tsx bench/chart.ts [results.json] [--out bench/chart.png] [--svg bench/chart.svg]
 *   node --import tsx bench/chart.ts [results.json] --markdown   # the README's tables instead
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

type Figures = Record<string, unknown>;
interface BenchResult {
  machine: { cores: number; cpu: string; node: string };
  started_at: string;
  scenarios: Record<string, Figures>;
  ratios: Record<string, number>;
}

interface Pair {
  scenario: string;
  sluiceLabel: string;
  sluice: number;
  baseLabel: string;
  base: number;
  ratio: string;
}

interface Latency {
  label: string;
  p50: number;
  p99: number;
  target?: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
const get = (o: unknown, path: string): number =>
  num(path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o));

function pairs(r: BenchResult): Pair[] {
  const s = r.scenarios;
  const out: Pair[] = [];
  const add = (p: Pair) => {
    if (Number.isFinite(p.sluice) && Number.isFinite(p.base)) out.push(p);
  };
  const ratio = (k: string) => (r.ratios[k] === undefined ? '' : `${k} ${r.ratios[k]!.toFixed(2)}`);
  add({
    scenario: 'e2e',
    sluiceLabel: 'fraud pipeline, embedded log',
    sluice: get(s.e2e, 'events_per_s'),
    baseLabel: 'ceiling: slowest raw part',
    base: get(s.ceiling, 'ceiling_events_per_s'),
    ratio: ratio('e2e_vs_ceiling'),
  });
  add({
    scenario: 'naive',
    sluiceLabel: 'fraud pipeline over Kafka',
    sluice: get(s.naive, 'sluice_events_per_s'),
    baseLabel: 'hand-written consumer loop',
    base: get(s.naive, 'naive_events_per_s'),
    ratio: ratio('e2e_vs_naive'),
  });
  add({
    scenario: 'broker',
    sluiceLabel: 'sluice broker ingest',
    sluice: get(s.broker, 'broker.records_per_s'),
    baseLabel: 'Redis Streams XADD',
    base: get(s.broker, 'redis.records_per_s'),
    ratio: ratio('broker_vs_redis'),
  });
  add({
    scenario: 'windows',
    sluiceLabel: 'tumbling window pipeline',
    sluice: get(s.windows, 'pipeline_events_per_s'),
    baseLabel: 'hand-written loop',
    base: get(s.windows, 'loop_events_per_s'),
    ratio: ratio('windows_vs_loop'),
  });
  add({
    scenario: 'inference',
    sluiceLabel: 'batched inference stage, fraud GBT on a worker',
    sluice: get(s.inference, 'stage_batched_rows_per_s'),
    baseLabel: 'unbatched, 1 row per call',
    base: get(s.inference, 'stage_unbatched_rows_per_s'),
    ratio: ratio('batched_vs_unbatched'),
  });
  const best = (k: string) => Math.max(...((s.observe?.[k] as number[] | undefined) ?? [NaN]));
  add({
    scenario: 'observe',
    sluiceLabel: 'metrics, SLOs, dashboard on',
    sluice: best('on_events_per_s'),
    baseLabel: 'observation off',
    base: best('off_events_per_s'),
    ratio: ratio('metrics_on_vs_off'),
  });
  add({
    scenario: 'scaleout',
    sluiceLabel: '2 workers (sluice run)',
    sluice: get(s.scaleout, 'workers_2_events_per_s'),
    baseLabel: '1 worker',
    base: get(s.scaleout, 'workers_1_events_per_s'),
    ratio: ratio('workers2_vs_1'),
  });
  return out;
}

function latencies(r: BenchResult): Latency[] {
  const s = r.scenarios;
  const out: Latency[] = [];
  const e2e = get(s.e2e, 'at_20k.e2e_ms.p99');
  if (Number.isFinite(e2e))
    out.push({
      label: 'e2e, 20k events/s',
      p50: get(s.e2e, 'at_20k.e2e_ms.p50'),
      p99: e2e,
      target: 10,
    });
  const added = get(s.inference, 'latency_at_rps.added_p99_us');
  if (Number.isFinite(added))
    out.push({
      label: 'batcher (added), 20k/s',
      p50: get(s.inference, 'latency_at_rps.added_p50_us') / 1000,
      p99: added / 1000,
      target: (num(s.inference?.delay_us) + 1000) / 1000,
    });
  return out;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number): string => {
  const [d, unit] = v >= 1e6 ? [1e6, 'M'] : v >= 1e3 ? [1e3, 'k'] : [1, ''];
  const x = v / d;
  return `${x >= 10 || Number.isInteger(x) ? x.toFixed(0) : x.toFixed(1)}${unit}`;
};

function svg(r: BenchResult): string {
  const P = pairs(r);
  const L = latencies(r);
  const W = 1200;
  const left = 250;
  const plotW = 560;
  const rowH = 62;
  const top = 90;
  const throughputH = top + P.length * rowH + 40;
  const latTop = throughputH + 60;
  const latRow = 54;
  const H = latTop + 40 + L.length * latRow + 20;
  const parts: string[] = [];
  const text = (x: number, y: number, t: string, attrs = '') =>
    parts.push(`<text x="${x}" y="${y}" ${attrs}>${esc(t)}</text>`);

  text(30, 38, 'Sluice benchmarks: throughput next to each baseline, same run', 'class="title"');
  text(
    30,
    62,
    `${r.machine.cores} cores, ${r.machine.cpu}, Node ${r.machine.node}, ${r.started_at.slice(0, 16).replace('T', ' ')} UTC — events (or rows, records) per second, log scale`,
    'class="sub"',
  );

  // Throughput: log-scale horizontal bars, Sluice above its baseline.
  const all = P.flatMap((p) => [p.sluice, p.base]);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all, 1e4)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 1e5)));
  const x = (v: number) =>
    left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${x(d)}" x2="${x(d)}" y1="${top - 8}" y2="${throughputH - 30}" class="grid"/>`);
    text(x(d), throughputH - 12, fmt(d), 'class="axis" text-anchor="middle"');
  }
  P.forEach((p, i) => {
    const y = top + i * rowH;
    text(30, y + 16, p.scenario, 'class="scen"');
    text(30, y + 36, p.ratio, 'class="ratio"');
    parts.push(`<rect x="${left}" y="${y}" width="${x(p.sluice) - left}" height="22" class="sluice"/>`);
    text(x(p.sluice) + 6, y + 16, `${fmt(p.sluice)}  ${p.sluiceLabel}`, 'class="val"');
    parts.push(`<rect x="${left}" y="${y + 26}" width="${x(p.base) - left}" height="22" class="base"/>`);
    text(x(p.base) + 6, y + 42, `${fmt(p.base)}  ${p.baseLabel}`, 'class="val"');
  });
  parts.push(`<rect x="${W - 230}" y="${top - 12}" width="14" height="14" class="sluice"/>`);
  text(W - 210, top, 'Sluice', 'class="val"');
  parts.push(`<rect x="${W - 230}" y="${top + 12}" width="14" height="14" class="base"/>`);
  text(W - 210, top + 24, 'baseline', 'class="val"');

  // Latency at a fixed offered load: p50 and p99 bars (linear ms), target as a red tick.
  text(30, latTop, 'Latency at a fixed offered load (ms): p50 and p99, target marked', 'class="title2"');
  const maxMs = Math.max(...L.flatMap((l) => [l.p99, l.target ?? 0]), 1) * 1.1;
  const lx = (v: number) => left + (v / maxMs) * plotW;
  L.forEach((l, i) => {
    const y = latTop + 30 + i * latRow;
    text(30, y + 16, l.label, 'class="scen"');
    parts.push(`<rect x="${left}" y="${y}" width="${lx(l.p99) - left}" height="20" class="p99"/>`);
    parts.push(
      `<rect x="${left}" y="${y + 22}" width="${Math.max(1, lx(l.p50) - left)}" height="12" class="p50"/>`,
    );
    text(lx(l.p99) + 6, y + 15, `p99 ${l.p99.toFixed(1)} ms`, 'class="val"');
    text(lx(l.p50) + 6, y + 33, `p50 ${l.p50.toFixed(2)} ms`, 'class="val small"');
    if (l.target !== undefined) {
      parts.push(
        `<line x1="${lx(l.target)}" x2="${lx(l.target)}" y1="${y - 4}" y2="${y + 38}" class="target"/>`,
      );
      text(lx(l.target), y - 8, `target ${l.target} ms`, 'class="axis tgt" text-anchor="middle"');
    }
  });

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<style>
  text { font-family: 'DejaVu Sans', Arial, sans-serif; fill: #1d2433; }
  .title { font-size: 22px; font-weight: 600; } .title2 { font-size: 17px; font-weight: 600; }
  .sub { font-size: 13px; fill: #5b6478; } .scen { font-size: 15px; font-weight: 600; }
  .ratio { font-size: 12px; fill: #5b6478; } .val { font-size: 13px; } .small { font-size: 11px; fill: #5b6478; }
  .axis { font-size: 11px; fill: #5b6478; } .tgt { fill: #c0392b; }
  .grid { stroke: #e3e6ee; } .sluice { fill: #2f6fdb; } .base { fill: #b4bccb; }
  .p99 { fill: #e0862a; } .p50 { fill: #f3c48f; } .target { stroke: #c0392b; stroke-width: 3; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${parts.join('\n')}
</svg>`;
}

/** Targets the project's issues set on the ratios (higher is better for all of them). */
const TARGETS: Record<string, number> = {
  e2e_vs_naive: 20,
  e2e_vs_ceiling: 0.5,
  e2e_vs_handwritten: 0.8,
  vs_kafkats_flow: 3,
  windows_vs_loop: 0.5,
  batched_vs_unbatched: 10,
  batched_vs_raw: 0.7,
  metrics_on_vs_off: 0.95,
  added_latency_budget_vs_p99: 1,
};

/** The README's tables: throughput per scenario next to its baseline, then every ratio. */
function markdown(r: BenchResult): string {
  const rows = pairs(r).map(
    (p) => `| ${p.scenario} | ${fmt(p.sluice)} (${p.sluiceLabel}) | ${fmt(p.base)} (${p.baseLabel}) |`,
  );
  const lat = latencies(r).map(
    (l) =>
      `| ${l.label} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(1)} | ${l.target === undefined ? '—' : `≤ ${l.target}`} | ${l.target === undefined ? '' : l.p99 <= l.target ? 'yes' : 'no'} |`,
  );
  const ratios = Object.entries(r.ratios).map(([k, v]) => {
    const t = TARGETS[k];
    return `| \`${k}\` | ${v.toFixed(v < 1 ? 3 : 2)} | ${t === undefined ? '—' : `≥ ${t}`} | ${t === undefined ? '' : v >= t ? 'yes' : 'no'} |`;
  });
  return [
    '| scenario | Sluice (per s) | baseline (per s) |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '| latency at a fixed offered load | p50 ms | p99 ms | target | met |',
    '| --- | --- | --- | --- | --- |',
    ...lat,
    '',
    '| ratio | value | target | met |',
    '| --- | --- | --- | --- |',
    ...ratios,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string', default: join(here, 'chart.png') },
      svg: { type: 'string' },
      markdown: { type: 'boolean', default: false },
    },
  });
  const input = positionals[0] ?? join(here, 'results', 'latest.json');
  const result = JSON.parse(readFileSync(input, 'utf8')) as BenchResult;
  if (values.markdown) {
    console.log(markdown(result));
    return;
  }
  const page = svg(result);
  if (values.svg) writeFileSync(values.svg, page);
  if (!existsSync(CHROMIUM)) {
    const fallback = values.out.replace(/\.png$/, '') + '.svg';
    writeFileSync(fallback, page);
    console.error(`no Chromium at ${CHROMIUM} (set CHROMIUM=...): wrote ${fallback} instead of a PNG`);
    return;
  }
  const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(page)!.map(Number);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  try {
    const tab = await browser.newPage({ viewport: { width: w!, height: h! }, deviceScaleFactor: 1 });
    await tab.setContent(`<!doctype html><html><body style="margin:0">${page}</body></html>`);
    await tab.screenshot({ path: values.out, clip: { x: 0, y: 0, width: w!, height: h! } });
  } finally {
    await browser.close();
  }
  console.error(`wrote ${values.out} from ${input}`);
}

await main();
