/**
 * Soak test (too long for CI): the fraud demo at a fixed offered load for N minutes, RSS sampled
 * every second; it fails (exit code 1) when RSS after the warm-up grew by more than the allowed
 * fraction.
 *
 *   node --import tsx bench/soak.ts [--minutes 5] [--rate 20000] [--warmup-s 30] [--max-growth 0.1] [--json]
 *
 * Growth = median RSS of the last minute over median RSS of the first minute after the warm-up
 * (medians over a minute smooth out the heap's sawtooth); the least-squares slope of RSS after
 * the warm-up is reported beside it, and RSS is split into anonymous memory (heaps, malloc) and
 * file-backed pages (mmap'ed LMDB state). The pipeline is the demo's own (embedded log, windowed
 * features, ONNX model, ledger, LMDB checkpoints every second); it prints one JSON summary on
 * stdout and progress on stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runFraudDemo } from '../src/apps/fraud/demo.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    rate: { type: 'string', default: '20000' },
    'warmup-s': { type: 'string', default: '30' },
    'max-growth': { type: 'string', default: '0.1' },
    json: { type: 'boolean', default: false },
  },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const warmupS = Number(args['warmup-s']);
const maxGrowth = Number(args['max-growth']);
if (!(minutes > 0) || !(rate > 0) || !(warmupS >= 0) || !(maxGrowth > 0)) {
  console.error('usage: bench/soak.ts [--minutes N>0] [--rate events/s] [--warmup-s S] [--max-growth 0.1]');
  process.exit(2);
}
if (minutes * 60 < warmupS + 120) {
  console.error(
    `--minutes ${minutes} leaves too little after a ${warmupS} s warm-up: give at least ${Math.ceil((warmupS + 120) / 60)}`,
  );
  process.exit(2);
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

interface Sample {
  t: number;
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  /** Linux: resident anonymous memory (heaps, malloc) and file-backed pages (mmap'ed LMDB, log). */
  anon: number;
  file: number;
}

/** RssAnon and RssFile from /proc/self/status, in bytes (NaN where there is no /proc). */
function rssParts(): { anon: number; file: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
  } catch {
    return { anon: NaN, file: NaN };
  }
}

const samples: Sample[] = [];
const started = performance.now();
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  const t = (performance.now() - started) / 1000;
  samples.push({
    t,
    rss: m.rss,
    heap: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external + m.arrayBuffers,
    ...rssParts(),
  });
  if (!args.json && samples.length % 10 === 0)
    console.error(
      `${t.toFixed(0)} s: rss ${mb(m.rss)} MB (anon ${mb(samples.at(-1)!.anon)}, file ${mb(samples.at(-1)!.file)}), heap ${mb(m.heapUsed)} MB`,
    );
}, 1000);

const dir = mkdtempSync(join(tmpdir(), 'sluice-soak-'));
let lastProgress = { eps: 0, lag: 0, p99: 0 };
const result = await runFraudDemo({
  seed: 42,
  customers: 1000,
  terminals: 2000,
  badRate: 0,
  events: Math.round(rate * minutes * 60),
  rate,
  dataDir: dir,
  onProgress: (p) => (lastProgress = { eps: p.eps, lag: p.lag, p99: p.e2e.p99 }),
});
clearInterval(sampler);
rmSync(dir, { recursive: true, force: true });

const after = samples.filter((s) => s.t >= warmupS && s.t < warmupS + 60);
const tailFrom = samples.at(-1)!.t - 60;
const tail = samples.filter((s) => s.t >= tailFrom);
/** Least-squares slope of RSS over time after the warm-up, in MB per minute. */
function slopeMbPerMin(xs: Sample[]): number {
  const n = xs.length;
  const mt = xs.reduce((a, s) => a + s.t, 0) / n;
  const mr = xs.reduce((a, s) => a + s.rss, 0) / n;
  const cov = xs.reduce((a, s) => a + (s.t - mt) * (s.rss - mr), 0);
  const vt = xs.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  return vt > 0 ? ((cov / vt) * 60) / 2 ** 20 : 0;
}
const base = median(after.map((s) => s.rss));
const end = median(tail.map((s) => s.rss));
const growth = (end - base) / base;
const peak = Math.max(...samples.filter((s) => s.t >= warmupS).map((s) => s.rss));
const summary = {
  minutes,
  offered_eps: rate,
  achieved_eps: result.throughput_eps,
  events: result.processed + result.dead_letters,
  e2e_ms: result.latency_ms.e2e,
  last_progress: lastProgress,
  warmup_s: warmupS,
  rss_mb: {
    after_warmup: mb(base),
    end: mb(end),
    peak_after_warmup: mb(peak),
    growth_pct: Math.round(growth * 1000) / 10,
    slope_mb_per_min: Math.round(slopeMbPerMin(samples.filter((s) => s.t >= warmupS)) * 10) / 10,
  },
  rss_anon_mb: {
    after_warmup: mb(median(after.map((s) => s.anon))),
    end: mb(median(tail.map((s) => s.anon))),
  },
  rss_file_mb: {
    after_warmup: mb(median(after.map((s) => s.file))),
    end: mb(median(tail.map((s) => s.file))),
  },
  heap_used_mb: {
    after_warmup: mb(median(after.map((s) => s.heap))),
    end: mb(median(tail.map((s) => s.heap))),
  },
  heap_total_mb: {
    after_warmup: mb(median(after.map((s) => s.heapTotal))),
    end: mb(median(tail.map((s) => s.heapTotal))),
  },
  external_mb: {
    after_warmup: mb(median(after.map((s) => s.external))),
    end: mb(median(tail.map((s) => s.external))),
  },
  rss_mb_every_10s: samples.filter((_, i) => i % 10 === 9).map((s) => mb(s.rss)),
  max_growth_pct: maxGrowth * 100,
  ok: growth <= maxGrowth,
};
console.log(JSON.stringify(summary, null, args.json ? 0 : 2));
process.exit(summary.ok ? 0 : 1);
