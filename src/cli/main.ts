import { readFileSync } from 'node:fs';
import { SluiceError } from '../stream/index.js';
import { UsageError } from './args.js';
import { DEMO_FRAUD_USAGE, demoFraud } from './commands/demo-fraud.js';
import { TRAIN_FRAUD_USAGE, trainFraud } from './commands/train-fraud.js';

const USAGE = `sluice — streaming AI pipelines: log -> features -> models -> idempotent actions

Usage:
  sluice demo fraud [--events N] [--seed S] [--data DIR] [--rate EPS] [--json]
  sluice train fraud [--seed S] [--days N] [--out FILE]
  sluice help [command]
  sluice --version

Run "sluice help demo fraud" for a command's options.
`;

type Command = { usage: string; run: (args: string[]) => Promise<number> };
const COMMANDS: Record<string, Command> = {
  'demo fraud': { usage: DEMO_FRAUD_USAGE, run: demoFraud },
  'train fraud': { usage: TRAIN_FRAUD_USAGE, run: trainFraud },
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
  const name = `${first} ${second ?? ''}`.trim();
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`sluice: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sluice ${name}: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    // Sluice's errors carry a stable code and a message that says what to do: no stack trace.
    if (
      e instanceof SluiceError ||
      (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^(SLUICE|LOG)_/.test(e.code))
    ) {
      process.stderr.write(`sluice ${name}: ${e.message} [${(e as SluiceError).code}]\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
