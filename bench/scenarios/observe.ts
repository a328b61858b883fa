/**
 * Scenario `observe`: what full observation costs. One pipeline (JSON decode, event time, a
 * feature map, a filter, an async "model" stage, a sink; ~100k events/s on a small machine)
 * runs with everything on — Observer with 3 SLO rules evaluated every second, Prometheus
 * histograms, the dashboard server with one SSE client reading, a /metrics scrape every
 * second (15x a usual scrape rate), the latest-actions hook — and with all of it off (the
 * runtime's own histograms and counters, which every run keeps). Off and on alternate, 5 each.
 * Other work on a shared machine only slows runs down, so the ratio compares each side's best
 * run; events per CPU-second of this process (less sensitive to neighbours) are reported too.
 */
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json, pipeline, type Sink } from '../../src/index.js';
import { DashboardServer, Observer } from '../../src/observe/index.js';
import { fromArray } from '../../src/testing.js';
import type { ScenarioResult } from '../run.js';
import { seededRandom } from '../../src/core/random.js';

const N = 250_000;
const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function events(): Buffer[] {
  const rand = seededRandom(11);
  const t0 = Date.now();
  return Array.from({ length: N }, (_, i) =>
    Buffer.from(
      JSON.stringify({
        id: i,
        ts: t0 + i,
        card: Math.floor(rand() * 5000),
        amount: Math.round(rand() * 50000) / 100,
      }),
    ),
  );
}

const SCHEMA = { id: 'integer', ts: 'integer', card: 'integer', amount: 'number' } as const;

/** A small dense layer stack, so the "model" stage costs what a light model does. */
const HIDDEN = 384;
const W1 = Float64Array.from({ length: 4 * HIDDEN }, (_, i) => Math.sin(i) * 0.5);
const W2 = Float64Array.from({ length: HIDDEN }, (_, i) => Math.cos(i) * 0.3);
function score(f: number[]): number {
  let out = 0;
  for (let h = 0; h < HIDDEN; h++) {
    let a = 0;
    for (let j = 0; j < 4; j++) a += f[j]! * W1[h * 4 + j]!;
    out += Math.tanh(a) * W2[h]!;
  }
  return 1 / (1 + Math.exp(-out));
}

function build(input: Buffer[], onAlert?: (v: { id: number; score: number }) => void) {
  const perCard = new Map<number, { n: number; sum: number }>();
  const sink: Sink<{ id: number; score: number }> = {
    name: 'alerts',
    write(records) {
      if (onAlert) for (const r of records) if (r.value.score > 0.98) onAlert(r.value);
    },
  };
  return pipeline('bench-observe')
    .from(fromArray(input))
    .decode(json(SCHEMA))
    .eventTime((t) => t.ts)
    .map(
      (t) => {
        // per-key state, as window features keep it
        let c = perCard.get(t.card);
        if (!c) perCard.set(t.card, (c = { n: 0, sum: 0 }));
        c.n++;
        c.sum += t.amount;
        return { id: t.id, f: [Math.log1p(t.amount), c.n / 100, t.amount / (c.sum / c.n), (t.id % 24) / 24] };
      },
      { name: 'features' },
    )
    .filter((t) => t.f[0]! > 0.05)
    .mapBatch(
      async (rows) => {
        await Promise.resolve(); // an async call, as a model runner's
        return rows.map((t) => ({ id: t.id, score: score(t.f) }));
      },
      { name: 'model' },
    )
    .to(sink);
}

interface OnStats {
  scrapes: number[];
  sseBytes: number;
  snapshots: number;
  metricsBytes: number;
}

interface Rates {
  eps: number;
  perCpuS: number;
}

/** Off, everything observed, or traced (1 % of records, OTLP/HTTP to a local collector). */
type Mode = 'off' | 'on' | 'traced';

async function once(input: Buffer[], mode: Mode, stats: OnStats, collector = ''): Promise<Rates> {
  const cpu = process.cpuUsage();
  const eps =
    mode === 'on'
      ? await observed(input, stats)
      : (
          await build(input).run({
            batchSize: 512,
            tracing: mode === 'traced' ? { ratio: 0.01, endpoint: collector } : false,
          }).done
        ).throughputEps;
  const used = process.cpuUsage(cpu);
  return { eps, perCpuS: input.length / ((used.user + used.system) / 1e6) };
}

async function observed(input: Buffer[], stats: OnStats): Promise<number> {
  const observer = new Observer({
    slo: [
      { name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 1000 },
      { name: 'lag', metric: 'lag', op: '<', threshold: 1e9 },
      { name: 'errors', metric: 'error_ratio', op: '<', threshold: 0.5 },
    ],
    log: null,
  });
  const run = build(input, (v) => observer.recordAction('bench-observe', v)).run({ batchSize: 512 });
  observer.add(run.metrics);
  const dash = await DashboardServer.start({ observer, port: 0 });
  const sse = get(`${dash.url}events`, (res) =>
    res.on('data', (c: Buffer) => {
      stats.sseBytes += c.length;
      stats.snapshots += (c.toString().match(/\ndata: |^data: /g) ?? []).length;
    }),
  );
  sse.on('error', () => {});
  const scraper = setInterval(async () => {
    const text = await (await fetch(`${dash.url}metrics`)).text();
    stats.metricsBytes = text.length;
    // What a scrape costs the pipeline's thread (the HTTP round trip waits on the busy loop).
    const t = performance.now();
    await observer.prometheus.metrics();
    stats.scrapes.push(performance.now() - t);
  }, 1000);
  const summary = await run.done;
  clearInterval(scraper);
  sse.destroy();
  await dash.close();
  observer.close();
  return summary.throughputEps;
}

/** A local OTLP/HTTP collector that takes and drops what it is sent; counts the spans' bytes. */
async function collector(): Promise<{ url: string; bytes: () => number; close: () => void }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

export async function run(): Promise<ScenarioResult> {
  const input = events();
  const stats: OnStats = { scrapes: [], sseBytes: 0, snapshots: 0, metricsBytes: 0 };
  const otlp = await collector();
  await once(input.slice(0, 50_000), 'off', stats); // warm up every path
  await once(input.slice(0, 50_000), 'on', stats);
  await once(input.slice(0, 50_000), 'traced', stats, otlp.url);
  Object.assign(stats, { scrapes: [], sseBytes: 0, snapshots: 0 });
  const off: Rates[] = [];
  const on: Rates[] = [];
  const traced: Rates[] = [];
  // Alternating rounds (off, on, traced, off, …): each ratio is the median of its rounds' ratios.
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await once(input, 'off', stats));
    on.push(await once(input, 'on', stats));
    traced.push(await once(input, 'traced', stats, otlp.url));
  }
  otlp.close();
  const perRound = (xs: Rates[]) => xs.map((x, i) => x.eps / off[i]!.eps);
  const spread = (xs: number[]) => ({
    median: +median(xs).toFixed(3),
    min: +Math.min(...xs).toFixed(3),
    max: +Math.max(...xs).toFixed(3),
  });
  const best = (xs: Rates[], k: keyof Rates) => Math.max(...xs.map((x) => x[k]));
  const scrapes = [...stats.scrapes].sort((a, b) => a - b);
  return {
    figures: {
      events_per_run: N,
      off_events_per_s: off.map((x) => Math.round(x.eps)),
      on_events_per_s: on.map((x) => Math.round(x.eps)),
      traced_events_per_s: traced.map((x) => Math.round(x.eps)),
      otlp_bytes_exported: otlp.bytes(),
      off_events_per_cpu_s: Math.round(best(off, 'perCpuS')),
      on_events_per_cpu_s: Math.round(best(on, 'perCpuS')),
      cpu_on_vs_off: Number((best(on, 'perCpuS') / best(off, 'perCpuS')).toFixed(3)),
      scrape_ms: {
        median: +median(scrapes).toFixed(2),
        max: +(scrapes.at(-1) ?? 0).toFixed(2),
        n: scrapes.length,
      },
      metrics_bytes: stats.metricsBytes,
      sse_bytes_per_snapshot: stats.snapshots ? Math.round(stats.sseBytes / stats.snapshots) : 0,
      sse_snapshots: stats.snapshots,
    },
    ratios: {
      metrics_on_vs_off: spread(perRound(on)).median,
      tracing_on_vs_off: spread(perRound(traced)).median,
    },
    ratios_spread: { metrics_on_vs_off: spread(perRound(on)), tracing_on_vs_off: spread(perRound(traced)) },
  };
}
