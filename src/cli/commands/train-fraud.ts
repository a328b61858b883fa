import { trainFraudModel, TRAIN_DEFAULTS } from '../../../examples/fraud/train.js';
import { intFlag, parseFlags, stringFlag } from '../args.js';

export const TRAIN_FRAUD_USAGE = `sluice train fraud [options]

Generates transaction history (another seed than the demo's), computes the same windowed
features as the live pipeline, trains a logistic regression and exports it to ONNX
(examples/fraud/model.onnx + model.json).

  --seed S        history seed (default ${TRAIN_DEFAULTS.seed})
  --days N        days of history (default ${TRAIN_DEFAULTS.days})
  --customers N   (default ${TRAIN_DEFAULTS.customers})
  --terminals N   (default ${TRAIN_DEFAULTS.terminals})
  --out FILE      ONNX file to write (default examples/fraud/model.onnx; model.json beside it)
`;

export async function trainFraud(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    seed: { type: 'string' },
    days: { type: 'string' },
    customers: { type: 'string' },
    terminals: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(TRAIN_FRAUD_USAGE);
    return 0;
  }
  const out = values.out === undefined ? undefined : stringFlag(values.out, 'out', '');
  const info = await trainFraudModel({
    seed: intFlag(values.seed, 'seed', TRAIN_DEFAULTS.seed, 0, 2 ** 32 - 1),
    days: intFlag(
      values.days,
      'days',
      TRAIN_DEFAULTS.days,
      TRAIN_DEFAULTS.warmupDays + TRAIN_DEFAULTS.validationDays + 7,
      3650,
    ),
    customers: intFlag(values.customers, 'customers', TRAIN_DEFAULTS.customers, 10, 1e7),
    terminals: intFlag(values.terminals, 'terminals', TRAIN_DEFAULTS.terminals, 10, 1e7),
    ...(out ? { modelPath: out, infoPath: out.replace(/\.onnx$/, '') + '.json' } : {}),
    log: (line) => process.stderr.write(line + '\n'),
  });
  process.stdout.write(JSON.stringify(info) + '\n');
  return 0;
}
