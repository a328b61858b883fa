import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScaledWorker, scaledApp, type ScaledApp, type WorkerEvent } from '../../connectors/index.js';
import { DashboardServer, Observer, parseSloRule, type SloRule } from '../../observe/index.js';
import { WorkerReadiness } from './run-readiness.js';
import { PACKAGE_ROOT } from '../../package-root.js';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { kafkaSecurityFromEnv } from '../../kafka-client/index.js';

export const RUN_USAGE = `sluice run PIPELINE.ts [options]

Runs a scaled-out pipeline: PIPELINE.ts default-exports scaledApp({ name, input, build }).
Workers form one Kafka consumer group; partitions, and the state that follows them, are spread
over the workers and move when a worker joins, leaves or dies (state restored from changelog topics).

  --workers N       worker processes to start on this machine (default 1)
  --brokers LIST    Kafka bootstrap servers, "host:port,host:port" (default $SLUICE_BROKERS or 127.0.0.1:9092)
  --group ID        consumer group, and prefix of the topics Sluice creates (default: the app's name)
  --member NAME     this worker's name (default: host-pid; with --workers N: NAME-1..N)
  --session-timeout-ms N  how long a silent worker keeps its partitions (default 10000)
  --checkpoint-ms N       checkpoint period (default 1000)
  --progress-ms N         period of progress lines (default 1000)
  --dashboard-port N      serve each worker's live dashboard and Prometheus /metrics (0 = any free port;
                          with --workers N, worker i uses N+i-1); the URL is printed
  --dashboard-host H      interface for it (default 127.0.0.1); it also serves /healthz and /readyz
  --ready-max-lag N       /readyz fails while a half's source lag is above N records (default 10000)
  --slo RULE              an objective checked every second on each worker, [name=]metric<threshold[@window]
                          (repeatable; e.g. e2e_p99_ms<250@1m): alerts on stderr, sluice_slo_* in /metrics
  --data DIR        keep each worker's state in a local LMDB database under DIR/<member> instead of
                    memory (state larger than memory; a restart reads only the changelog's tail)
  --standby         keep warm copies of other workers' state, so a takeover restores only the changelog's tail
  --json            one JSON object per line on stdout (events: started, assigned, restore, progress, stopped)

On several machines, run the same command on each with the same --brokers and --group.
A cluster with SASL and TLS: SLUICE_KAFKA_USER / SLUICE_KAFKA_PASSWORD (SASL credentials),
SLUICE_KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; default PLAIN),
SLUICE_KAFKA_TLS=1 (TLS with the system CAs) or SLUICE_KAFKA_CA=FILE (TLS trusting that CA).
Ctrl-C or SIGTERM: workers finish what is in flight, checkpoint, and leave the group.
`;

const BIN = join(PACKAGE_ROOT, 'bin', 'sluice.js');

async function loadApp(file: string): Promise<ScaledApp> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`pipeline file ${path} does not exist`);
  let mod: { default?: ScaledApp };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: ScaledApp };
  } catch (e) {
    // A .ts file outside a "type": "module" package is loaded as CommonJS and fails obscurely.
    throw new UsageError(
      `cannot load ${file}: ${(e as Error).message.split('\n')[0]} (it must be an ES module: inside a package with "type": "module", or named .mts)`,
    );
  }
  if (!mod.default) throw new UsageError(`${file} must default-export scaledApp({ name, input, build })`);
  return scaledApp(mod.default);
}

function describe(e: WorkerEvent): string {
  switch (e.event) {
    case 'started':
      return `${e.member}: started (input has ${e.input_partitions} partitions)`;
    case 'assigned':
      return `${e.member}: generation ${e.generation}, partitions [${e.partitions.join(', ')}]${e.revoked.length ? `, gave up [${e.revoked.join(', ')}]` : ''}`;
    case 'restore':
      return `${e.member}: ${e.done ? 'restored' : 'restoring'} partition ${e.partition}: ${e.records}/${e.of} changelog records in ${Math.round(e.ms)} ms${e.from_standby ? ` (${e.from_standby} already in the standby copy)` : ''}`;
    case 'progress':
      return `${e.member} ${e.half}: ${e.processed} processed, ${e.eps}/s, lag ${e.lag}, ${e.actions} actions, ${e.dead_letters} dead letters`;
    case 'stopped':
      return `${e.member}: stopped`;
  }
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    workers: { type: 'string' },
    brokers: { type: 'string' },
    group: { type: 'string' },
    member: { type: 'string' },
    'session-timeout-ms': { type: 'string' },
    'checkpoint-ms': { type: 'string' },
    'progress-ms': { type: 'string' },
    'ready-max-lag': { type: 'string' },
    json: { type: 'boolean' },
    standby: { type: 'boolean' },
    data: { type: 'string' },
    'dashboard-port': { type: 'string' },
    slo: { type: 'string', multiple: true },
    'dashboard-host': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('give exactly one pipeline file');
  const workers = intFlag(values.workers, 'workers', 1, 1, 1024);
  const app = await loadApp(file);
  const brokers = stringFlag(values.brokers, 'brokers', process.env.SLUICE_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim());
  if (!brokers.every((b) => /^[^:]+:\d+$/.test(b)))
    throw new UsageError(`--brokers must be "host:port[,host:port...]", got "${values.brokers}"`);
  const group = stringFlag(values.group, 'group', app.name);
  const json = values.json === true;
  if (workers > 1) return supervise(args, workers, stringFlag(values.member, 'member', `${group}-w`), json);

  const shown = new Map<string, number>(); // progress lines only when a half moved on
  const ready = new WorkerReadiness();
  const emit = (e: WorkerEvent) => {
    ready.see(e);
    if (json) process.stdout.write(JSON.stringify(e) + '\n');
    else if (e.event !== 'progress' || shown.get(e.half) !== e.processed) {
      if (e.event === 'progress') shown.set(e.half, e.processed);
      process.stderr.write(describe(e) + '\n');
    }
  };
  const slo = sloRules(values.slo as unknown as string[] | undefined);
  const observer =
    values['dashboard-port'] !== undefined || slo.length > 0 ? new Observer({ slo }) : undefined;
  const worker = await ScaledWorker.start(app, {
    brokers,
    group,
    ...(values.member !== undefined ? { member: stringFlag(values.member, 'member', '') } : {}),
    sessionTimeoutMs: intFlag(values['session-timeout-ms'], 'session-timeout-ms', 10_000, 1000),
    checkpointIntervalMs: intFlag(values['checkpoint-ms'], 'checkpoint-ms', 1000, 10),
    progressIntervalMs: intFlag(values['progress-ms'], 'progress-ms', 1000, 50),
    ...kafkaSecurityFromEnv(),
    standby: values.standby === true,
    ...(values.data !== undefined ? { dataDir: resolve(stringFlag(values.data, 'data', '')) } : {}),
    observer,
    onEvent: emit,
  });
  const dash = observer
    ? await DashboardServer.start({
        observer,
        title: `Sluice — ${app.name} (${worker.member})`,
        port: intFlag(values['dashboard-port'], 'dashboard-port', 0, 0, 65535),
        host: stringFlag(values['dashboard-host'], 'dashboard-host', '127.0.0.1'),
        readyMaxLag: intFlag(values['ready-max-lag'], 'ready-max-lag', 10_000, 0),
        readiness: () => ready.checks(),
      })
    : undefined;
  if (dash) {
    const line = { event: 'dashboard', member: worker.member, url: dash.url, metrics: `${dash.url}metrics` };
    if (json) process.stdout.write(JSON.stringify(line) + '\n');
    else process.stderr.write(`${worker.member}: dashboard ${dash.url} (Prometheus: ${dash.url}metrics)\n`);
  }
  const stop = () => void worker.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await worker.done;
  } finally {
    await dash?.close();
    observer?.close();
  }
  return 0;
}

/** Starts `n` worker processes with the same arguments; forwards signals; exits when all did. */
async function supervise(args: string[], n: number, prefix: string, json: boolean): Promise<number> {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--workers' || a === '--member') i++;
    else if (!a.startsWith('--workers=') && !a.startsWith('--member=')) rest.push(a);
  }
  const children: ChildProcess[] = [];
  const exits: Promise<number>[] = [];
  const port = portOf(rest);
  for (let i = 1; i <= n; i++) {
    const member = `${prefix}${i}`;
    // A fixed dashboard port: worker i takes port + i - 1, so they do not collide.
    const args = port > 0 ? withPort(rest, port + i - 1) : rest;
    const child = spawn(process.execPath, [BIN, 'run', ...args, '--member', member], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    const line = { event: 'worker', member, pid: child.pid };
    if (json) process.stdout.write(JSON.stringify(line) + '\n');
    else process.stderr.write(`${member}: pid ${child.pid}\n`);
    exits.push(new Promise((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)))));
  }
  const forward = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  const codes = await Promise.all(exits);
  return Math.max(0, ...codes);
}

/** The --dashboard-port given to the supervisor (0 when none or "any"). */
function portOf(args: string[]): number {
  const i = args.indexOf('--dashboard-port');
  const v = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith('--dashboard-port='))?.split('=')[1];
  return v === undefined ? 0 : Number(v) || 0;
}

function withPort(args: string[], port: number): string[] {
  const out = args.filter((a) => !a.startsWith('--dashboard-port='));
  const i = out.indexOf('--dashboard-port');
  if (i >= 0) out[i + 1] = String(port);
  else out.push('--dashboard-port', String(port));
  return out;
}

/** The `--slo` flags (parseFlags types values as scalars; with `multiple: true` it is an array). */
function sloRules(flags: string[] | undefined): SloRule[] {
  try {
    return (flags ?? []).map(parseSloRule);
  } catch (e) {
    throw new UsageError(`--slo: ${(e as Error).message}`);
  }
}
