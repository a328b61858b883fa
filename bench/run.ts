/**
 * `npm run bench [-- <scenario>...] [-- --json]`: runs benchmark scenarios, each comparing Sluice
 * side by side with a baseline in the same run, prints a table (or one JSON object with
 * --json) and writes bench/results/latest.json (all scenarios) or partial.json (some).
 *
 * A scenario is a module `bench/scenarios/<name>.ts` exporting
 * `run(): Promise<ScenarioResult>`; ratios are what the issues set targets on.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface ScenarioResult {
  /** Figures of this scenario (rates, latencies), flat or nested, numbers in their units. */
  figures: Record<string, unknown>;
  /** Named ratios (e.g. broker_vs_redis): > 1 means Sluice is ahead where higher is better. */
  ratios: Record<string, number>;
  /** For ratios taken as the median of alternating rounds: that median and the rounds' min and max. */
  ratios_spread?: Record<string, RatioSpread>;
}

/** One ratio over alternating rounds (A, B, A, B, …): the median of the per-round ratios, their range. */
export interface RatioSpread {
  median: number;
  min: number;
  max: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Node flags a scenario runs under, as its deployment would set them (NODE_OPTIONS).
 * `inference` serves the model from a worker thread: on 2 cores V8's parallel GC helper threads
 * preempt that worker, so the scenario runs as docs/inference.md advises for such deployments
 * (measured on this machine: batched_vs_raw 0.72–0.81 in 10 of 11 runs with the flag, 0.60–0.77
 * in 4 without; the batcher's added p99 1.0–1.3 ms with, 1.0–2.5 ms without).
 */
const NODE_FLAGS: Record<string, string[]> = { inference: ['--single-threaded-gc'] };
const ORDER = [
  'e2e',
  'naive',
  'ceiling',
  'broker',
  'windows',
  'inference',
  'inference_adaptive',
  'observe',
  'scaleout',
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const available = readdirSync(`${here}scenarios`)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
  const wanted = args.filter((a) => !a.startsWith('--'));
  for (const w of wanted) {
    if (!available.includes(w)) {
      console.error(`unknown scenario "${w}"; available: ${available.join(', ')}`);
      process.exit(2);
    }
  }
  const names = wanted.length > 0 ? wanted : available;
  const out = {
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      memory_gb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      /** 1, 5 and 15-minute load averages at the start and the end: how loaded the machine was. */
      load_average_start: loadavg().map((x) => Number(x.toFixed(2))),
      load_average_end: [] as number[],
    },
    started_at: new Date().toISOString(),
    scenarios: {} as Record<string, Record<string, unknown>>,
    ratios: {} as Record<string, number>,
    ratios_spread: {} as Record<string, RatioSpread>,
  };
  if (args.includes('--in-process')) {
    // One scenario, asked for by the parent below: print its result, write nothing.
    const r = await runHere(names[0]!);
    console.log(JSON.stringify(r));
    return;
  }
  for (const name of names) {
    if (!json) console.error(`running ${name}...`);
    const flags = NODE_FLAGS[name] ?? [];
    const inPlace = names.length === 1 && flags.every((f) => process.execArgv.includes(f));
    const r = inPlace ? await runHere(name) : runIsolated(name, flags);
    if (flags.length > 0) r.figures.node_flags = flags;
    out.scenarios[name] = r.figures;
    Object.assign(out.ratios, r.ratios);
    Object.assign(out.ratios_spread, r.ratios_spread ?? {});
  }
  out.machine.load_average_end = loadavg().map((x) => Number(x.toFixed(2)));
  mkdirSync(`${here}results`, { recursive: true });
  // latest.json is the full run the README shows; a run of some scenarios does not replace it.
  const file = names.length === available.length ? 'latest.json' : 'partial.json';
  writeFileSync(`${here}results/${file}`, JSON.stringify(out, null, 2) + '\n');
  if (json) {
    console.log(JSON.stringify(out));
    return;
  }
  for (const [name, figures] of Object.entries(out.scenarios))
    console.log(`${name.padEnd(10)} ${JSON.stringify(figures)}`);
  console.log('');
  for (const [k, v] of Object.entries(out.ratios)) console.log(`${k.padEnd(24)} ${v.toFixed(2)}`);
}

async function runHere(name: string): Promise<ScenarioResult> {
  const mod = (await import(`./scenarios/${name}.ts`)) as { run: () => Promise<ScenarioResult> };
  return mod.run();
}

/**
 * Runs a scenario in a process of its own: in one shared process each scenario inherited the
 * heap its predecessors left (their old-generation garbage, LMDB maps, JIT state), which
 * slowed the allocation-heavy ones by up to a third (windows: pipeline 3.3M events/s after the
 * others, 5.0M alone, the same code).
 */
function runIsolated(name: string, flags: string[]): ScenarioResult {
  const child = spawnSync(
    process.execPath,
    [...flags, ...process.execArgv, fileURLToPath(import.meta.url), name, '--in-process'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 },
  );
  if (child.status !== 0) throw new Error(`scenario ${name} failed (exit ${child.status ?? child.signal})`);
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as ScenarioResult;
}

await main();
