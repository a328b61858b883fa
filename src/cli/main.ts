import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactUrls } from '../core/redact.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { SluiceError } from '../core/errors.js';
import { UsageError } from './args.js';

const USAGE = `sluice — streaming AI pipelines: log -> features -> models -> idempotent actions

Usage:
  sluice demo fraud [--events N] [--seed S] [--data DIR] [--rate EPS] [--json]
  sluice demo anomaly [--nab DIR] [--out DIR] [--json]
  sluice demo recs [--input FILE.csv] [--events N] [--port PORT] [--serve] [--json]
  sluice train fraud [--model lr|gbt] [--protocol default|handbook] [--out FILE]
  sluice train fraud --input FILE.csv [--model lr|gbt] [--protocol default|handbook] [--features-out SET.csv]
  sluice train PIPELINE.ts --input HISTORY --label FIELD [--model lr|gbt|mlp] [--out FILE]
  sluice features diff ONLINE.csv BACKFILL.csv [--key COLUMN] [--tolerance X]
  sluice run PIPELINE.ts [--workers N] [--brokers host:port,...] [--group ID] [--json]
  sluice broker [--port 9092] [--host 127.0.0.1] [--data DIR] [--partitions N] [--fsync batch|interval|never]
  sluice dlq list|show|replay --data DIR [--topic fraud.dlq]
  sluice ingest URL --to TOPIC [--data DIR] [--port N]
  sluice log check --data DIR [--repair] [--json]
  sluice help [command]
  sluice --version

Add --debug to any command to print the stack of an error.

Run "sluice help demo fraud" for a command's options.
`;

type Command = { usage: string; run: (args: string[]) => Promise<number> };
/**
 * The commands, each loaded only when it runs (or its help is asked for): a start pays for the
 * one command's imports, not for every layer. Adding a command is one entry here (and a line in
 * USAGE).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  'demo fraud': () =>
    import('./commands/demo-fraud.js').then((m) => ({ usage: m.DEMO_FRAUD_USAGE, run: m.demoFraud })),
  'demo anomaly': () =>
    import('./commands/demo-anomaly.js').then((m) => ({ usage: m.DEMO_ANOMALY_USAGE, run: m.demoAnomaly })),
  'demo recs': () =>
    import('./commands/demo-recs.js').then((m) => ({ usage: m.DEMO_RECS_USAGE, run: m.demoRecs })),
  'train fraud': () =>
    import('./commands/train-fraud.js').then((m) => ({ usage: m.TRAIN_FRAUD_USAGE, run: m.trainFraud })),
  train: () => import('./commands/train.js').then((m) => ({ usage: m.TRAIN_USAGE, run: m.train })),
  features: () =>
    import('./commands/features-diff.js').then((m) => ({
      usage: m.FEATURES_DIFF_USAGE,
      run: m.featuresDiff,
    })),
  broker: () => import('./commands/broker.js').then((m) => ({ usage: m.BROKER_USAGE, run: m.broker })),
  dlq: () => import('./commands/dlq.js').then((m) => ({ usage: m.DLQ_USAGE, run: m.dlq })),
  ingest: () => import('./commands/ingest.js').then((m) => ({ usage: m.INGEST_USAGE, run: m.ingest })),
  'log check': () =>
    import('./commands/log-check.js').then((m) => ({ usage: m.LOG_CHECK_USAGE, run: m.logCheck })),
  run: () => import('./commands/run.js').then((m) => ({ usage: m.RUN_USAGE, run: m.run })),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  // --debug may stand anywhere before a "--"; the commands' strict flag parsing never sees it.
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--');
  const debug = argv.slice(0, end).includes('--debug') || process.env.SLUICE_DEBUG === '1';
  argv = [...argv.slice(0, end).filter((a) => a !== '--debug'), ...argv.slice(end)];
  const [first, second, ...rest] = argv;
  if (!first || first === 'help' || first === '--help' || first === '-h') {
    const topic = [second, rest[0]].filter(Boolean).join(' ');
    const command = COMMANDS[topic];
    process.stdout.write(command ? (await command()).usage : USAGE);
    return 0;
  }
  if (first === '--version' || first === 'version') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  // Two-word commands ("demo fraud") first, then one-word ones ("broker --port 9092").
  const single = COMMANDS[`${first} ${second ?? ''}`.trim()] === undefined && COMMANDS[first] !== undefined;
  const name = single ? first : `${first} ${second ?? ''}`.trim();
  const load = COMMANDS[name];
  const args = single ? argv.slice(1) : rest;
  if (!load) {
    process.stderr.write(`sluice: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const command = await load();
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sluice ${name}: ${redactUrls(e.message)}\n\n${command.usage}`);
      return 2;
    }
    // Every Sluice error (any layer's: they all extend SluiceError) carries a stable code and a
    // message that says what to do: no stack trace unless asked for. The message is redacted
    // again here: a client library's message inside it may quote a URL with its password.
    if (e instanceof SluiceError) {
      process.stderr.write(`sluice ${name}: ${redactUrls(e.message)} [${e.code}]\n`);
      if (debug && e.stack) process.stderr.write(redactUrls(e.stack) + '\n');
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
