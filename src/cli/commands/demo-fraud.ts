import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FRAUD_SLO, runFraudDemo, type FraudDemoResult } from '../../apps/fraud/demo.js';
import { parseSloRule } from '../../observe/index.js';
import { UsageError, intFlag, numberFlag, parseFlags, stringFlag } from '../args.js';
import { progressLine } from '../progress.js';

export const DEMO_FRAUD_USAGE = `sluice demo fraud [options]

Generates card transactions into the embedded log and runs the fraud pipeline on them:
windowed features per customer and terminal -> ONNX model -> alert actions.

  --events N      transactions to produce in total (default 200000)
  --seed S        generator seed (default 42)
  --data DIR      data directory; a second run with the same DIR resumes (default .sluice/fraud)
  --rate EPS      events per second offered by the producer (default: as fast as possible)
  --customers N   simulated customers (default 1000)
  --terminals N   simulated terminals (default 2000)
  --bad-rate P    fraction of records corrupted on purpose to exercise dead letters (default 0)
  --json          print one JSON summary on stdout when done (progress goes to stderr)
  --quiet         no progress lines
  --dashboard-port PORT
                  live dashboard and Prometheus /metrics on 127.0.0.1:PORT; 0 (default) picks a
                  free port; the URL is printed on stderr
  --no-dashboard  no dashboard server
  --slo RULE      an objective checked every second, [name=]metric<threshold[@window], e.g.
                  e2e_p99_ms<100@1m (repeatable; replaces the defaults: e2e_p99_ms<250,
                  lag<10000, error_ratio:infer<0.01, each over 1m); alerts go to stderr
  --no-slo        no objectives
  --alerts-to URL also deliver each alert, deduplicated by its idempotency key, to
                  postgres://user@host:port/db[?table=NAME], http(s)://... (webhook; HMAC secret
                  from SLUICE_WEBHOOK_SECRET, required: =unsigned sends unsigned requests),
                  kafka://host:port/topic, pubsub://projects/P/topics/T (Google Pub/Sub;
                  ?ordering=record), kinesis://stream?region=R[&endpoint=URL] or
                  file:path.jsonl; kafka://…?format=avro&registry=
                  http://host:port&schema=alert.avsc writes them in the Confluent wire format,
                  the schema registered under TOPIC-value (also protobuf, json-schema)
  --from URL      read transactions from kafka://host:port/topic, mqtt://host:port/topic,
                  nats://host:port/subject, redis://host:port/stream,
                  pubsub://projects/P/subscriptions/S (Google Pub/Sub; PUBSUB_EMULATOR_HOST for
                  an emulator), kinesis://stream?region=R[&endpoint=URL] (AWS credentials from
                  the usual AWS_* env / ~/.aws chain) or file:path(.ndjson|.csv)
                  instead of generating them; --events then stops after N records of this run
                  (default: until the source ends or Ctrl-C), --rate paces a file replay;
                  kafka://host:port/topic?format=avro&registry=http://host:port reads records
                  in the Confluent wire format (also format=protobuf, format=json-schema)
  --input FILE.csv
                  read transactions from a CSV in the Fraud Detection Handbook's layout
                  (TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD, extra
                  columns ignored); --events caps the rows read (default: the whole file)
  --features-out FILE.csv|FILE.parquet
                  also write each transaction's 15 model inputs with the handbook's column names
                  (Parquet when the name ends in .parquet; its footer is written when the run ends)
  --rebuild-state set the state store aside (DIR/state -> DIR/state.set-aside-TIME) and rebuild it
                  by replaying the log from the start: the fix when the state is reported damaged;
                  actions already taken are not repeated
  --model PATH    score with this ONNX model (its .json description beside it), e.g. one from
                  "sluice train fraud --model gbt --out PATH" (default examples/fraud/model.onnx)
`;

export async function demoFraud(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    events: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    rate: { type: 'string' },
    customers: { type: 'string' },
    terminals: { type: 'string' },
    'bad-rate': { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    'dashboard-port': { type: 'string' },
    'no-dashboard': { type: 'boolean' },
    slo: { type: 'string', multiple: true },
    'no-slo': { type: 'boolean' },
    'alerts-to': { type: 'string' },
    from: { type: 'string' },
    input: { type: 'string' },
    'features-out': { type: 'string' },
    model: { type: 'string' },
    'rebuild-state': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DEMO_FRAUD_USAGE);
    return 0;
  }
  const from = values.from === undefined ? undefined : stringFlag(values.from, 'from', '');
  if (from !== undefined && values['bad-rate'] !== undefined)
    throw new UsageError('--bad-rate corrupts generated records; with --from nothing is generated');
  if (from !== undefined && values.rate !== undefined && !from.startsWith('file:'))
    throw new UsageError(
      '--rate paces the generator or a file: replay; it does not apply to --from ' + from.split(':')[0],
    );
  const input = values.input === undefined ? undefined : resolve(stringFlag(values.input, 'input', ''));
  if (input !== undefined && (from !== undefined || values['bad-rate'] !== undefined))
    throw new UsageError('--input reads transactions from a file: it excludes --from and --bad-rate');
  const modelPath = values.model === undefined ? undefined : modelFlag(stringFlag(values.model, 'model', ''));
  // With --from, no --events means: until the source ends (files) or Ctrl-C.
  const events =
    (from || input) && values.events === undefined
      ? Infinity
      : intFlag(values.events, 'events', 200_000, 1, 1e9);
  const showProgress = !values.quiet && (!values.json || process.stderr.isTTY);
  const dashboardPort = intFlag(values['dashboard-port'], 'dashboard-port', 0, 0, 65535);
  if (values['no-dashboard'] && values['dashboard-port'] !== undefined)
    throw new UsageError('--dashboard-port and --no-dashboard exclude each other');
  // parseFlags types values as scalars; with `multiple: true` parseArgs gives an array.
  const sloFlags = values.slo as unknown as string[] | undefined;
  let slo = values['no-slo'] ? [] : FRAUD_SLO;
  if (sloFlags?.length) {
    if (values['no-slo']) throw new UsageError('--slo and --no-slo exclude each other');
    try {
      slo = sloFlags.map(parseSloRule);
    } catch (e) {
      throw new UsageError(`--slo: ${(e as Error).message}`);
    }
  }
  let stopRequested = false;
  const result: FraudDemoResult = await runFraudDemo({
    events,
    seed: intFlag(values.seed, 'seed', 42, 0, 2 ** 32 - 1),
    dataDir: resolve(stringFlag(values.data, 'data', '.sluice/fraud')),
    rate: numberFlag(values.rate, 'rate', undefined, 1, 1e9),
    customers: intFlag(values.customers, 'customers', 1000, 1, 1e7),
    terminals: intFlag(values.terminals, 'terminals', 2000, 1, 1e7),
    badRate: numberFlag(values['bad-rate'], 'bad-rate', 0, 0, 1),
    alertsTo:
      values['alerts-to'] === undefined ? undefined : stringFlag(values['alerts-to'], 'alerts-to', ''),
    from,
    input,
    featuresOut:
      values['features-out'] === undefined
        ? undefined
        : resolve(stringFlag(values['features-out'], 'features-out', '')),
    ...(modelPath ? { modelPath, modelInfoPath: modelPath.replace(/\.onnx$/, '') + '.json' } : {}),
    rebuildState: values['rebuild-state'] === true,
    dashboard: values['no-dashboard'] ? undefined : { port: dashboardPort },
    onDashboard: (url) => process.stderr.write(`dashboard: ${url} (Prometheus: ${url}metrics)\n`),
    slo,
    onProgress: showProgress
      ? (p) => process.stderr.write(progressLine(p, Number.isFinite(events) ? events : undefined) + '\n')
      : undefined,
    onStart: (run) => {
      // First Ctrl-C: finish in-flight work and checkpoint; a second one exits at once.
      process.once('SIGINT', () => {
        stopRequested = true;
        process.stderr.write(
          '\nstopping: finishing in-flight records and saving a checkpoint (Ctrl-C again to abort)\n',
        );
        process.once('SIGINT', () => process.exit(130));
        void run.stop();
      });
    },
  });
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(humanSummary(result) + '\n');
  return stopRequested ? 130 : 0;
}

function humanSummary(r: FraudDemoResult): string {
  const stages = Object.entries(r.latency_ms.stages)
    .map(([name, s]) => `    ${name.padEnd(16)} p50 ${s.p50} ms  p99 ${s.p99} ms`)
    .join('\n');
  return [
    `fraud demo ${r.stopped ? 'stopped' : 'done'}${r.resumed ? ' (resumed)' : ''}: ${r.processed} processed + ${r.dead_letters} dead letters of ${r.events_in} events in ${r.elapsed_s} s (${r.throughput_eps} ev/s)`,
    `  e2e latency: p50 ${r.latency_ms.e2e.p50} ms  p99 ${r.latency_ms.e2e.p99} ms  max ${r.latency_ms.e2e.max} ms`,
    `  stages:`,
    stages,
    `  alerts: ${r.actions} (digest ${r.actions_digest.slice(0, 16)}…)`,
    `  quality after warm-up: ROC-AUC ${r.quality.roc_auc ?? 'n/a'}  AP ${r.quality.average_precision ?? 'n/a'}  card precision@100 ${r.quality.card_precision_at_100 ?? 'n/a'} on ${r.quality.evaluated} tx (${r.quality.frauds} frauds)`,
    `  data: ${r.data_dir} (run again to resume; delete it to start over)`,
  ].join('\n');
}

/** --model PATH: the ONNX file and the .json description beside it must both exist (named as given). */
function modelFlag(given: string): string {
  const path = resolve(given);
  if (!existsSync(path)) throw new UsageError(`--model ${given}: no such file (looked for ${path})`);
  const info = path.replace(/\.onnx$/, '') + '.json';
  if (!existsSync(info))
    throw new UsageError(
      `--model ${given}: the model's description ${info} is missing beside it; "sluice train fraud --out ${given}" writes both`,
    );
  return path;
}
