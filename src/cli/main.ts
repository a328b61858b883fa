import { readFileSync } from 'node:fs';
import { SluiceError } from '../stream/index.js';
import { redactUrls } from '../core/redact.js';
import { UsageError } from './args.js';
import { BROKER_USAGE, broker } from './commands/broker.js';
import { DEMO_ANOMALY_USAGE, demoAnomaly } from './commands/demo-anomaly.js';
import { DEMO_FRAUD_USAGE, demoFraud } from './commands/demo-fraud.js';
import { DEMO_RECS_USAGE, demoRecs } from './commands/demo-recs.js';
import { DLQ_USAGE, dlq } from './commands/dlq.js';
import { INGEST_USAGE, ingest } from './commands/ingest.js';
import { LOG_CHECK_USAGE, logCheck } from './commands/log-check.js';
import { RUN_USAGE, run } from './commands/run.js';
import { TRAIN_FRAUD_USAGE, trainFraud } from './commands/train-fraud.js';

const USAGE = `sluice — streaming AI pipelines: log -> features -> models -> idempotent actions

Usage:
  sluice demo fraud [--events N] [--seed S] [--data DIR] [--rate EPS] [--json]
  sluice demo anomaly [--nab DIR] [--out DIR] [--json]
  sluice demo recs [--input FILE.csv] [--events N] [--port PORT] [--serve] [--json]
  sluice train fraud [--model lr|gbt] [--protocol default|handbook] [--out FILE]
  sluice run PIPELINE.ts [--workers N] [--brokers host:port,...] [--group ID] [--json]
  sluice broker [--port 9092] [--host 127.0.0.1] [--data DIR] [--partitions N] [--fsync batch|interval|never]
  sluice dlq list|show|replay --data DIR [--topic fraud.dlq]
  sluice ingest URL --to TOPIC [--data DIR] [--port N]
  sluice log check --data DIR [--repair] [--json]
  sluice help [command]
  sluice --version

Run "sluice help demo fraud" for a command's options.
`;

type Command = { usage: string; run: (args: string[]) => Promise<number> };
const COMMANDS: Record<string, Command> = {
  'demo fraud': { usage: DEMO_FRAUD_USAGE, run: demoFraud },
  'demo anomaly': { usage: DEMO_ANOMALY_USAGE, run: demoAnomaly },
  'demo recs': { usage: DEMO_RECS_USAGE, run: demoRecs },
  'train fraud': { usage: TRAIN_FRAUD_USAGE, run: trainFraud },
  broker: { usage: BROKER_USAGE, run: broker },
  dlq: { usage: DLQ_USAGE, run: dlq },
  ingest: { usage: INGEST_USAGE, run: ingest },
  'log check': { usage: LOG_CHECK_USAGE, run: logCheck },
  run: { usage: RUN_USAGE, run },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, second, ...rest] = argv;
  if (!first || first === 'help' || first === '--help' || first === '-h') {
    const topic = [second, rest[0]].filter(Boolean).join(' ');
    process.stdout.write(COMMANDS[topic]?.usage ?? USAGE);
    return 0;
  }
  if (first === '--version' || first === 'version') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  // Two-word commands ("demo fraud") first, then one-word ones ("broker --port 9092").
  const single = COMMANDS[`${first} ${second ?? ''}`.trim()] === undefined && COMMANDS[first] !== undefined;
  const name = single ? first : `${first} ${second ?? ''}`.trim();
  const command = COMMANDS[name];
  const args = single ? argv.slice(1) : rest;
  if (!command) {
    process.stderr.write(`sluice: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sluice ${name}: ${redactUrls(e.message)}\n\n${command.usage}`);
      return 2;
    }
    // Sluice's errors carry a stable code and a message that says what to do: no stack trace.
    if (
      e instanceof SluiceError ||
      (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^(SLUICE|LOG)_/.test(e.code))
    ) {
      // Redacted here too: a client library's message may quote a URL with its password.
      process.stderr.write(`sluice ${name}: ${redactUrls(e.message)} [${(e as SluiceError).code}]\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
