import { trainFraudModel, TRAIN_DEFAULTS } from '../../apps/fraud/train.js';
import { UsageError, intFlag, parseFlags, stringFlag } from '../args.js';

export const TRAIN_FRAUD_USAGE = `sluice train fraud [options]

Generates transaction history (another seed than the demo's), computes the same windowed
features as the live pipeline, trains a logistic regression and exports it to ONNX
(examples/fraud/model.onnx + model.json).

  --seed S        history seed (default ${TRAIN_DEFAULTS.seed})
  --days N        days of history (default ${TRAIN_DEFAULTS.days})
  --customers N   (default ${TRAIN_DEFAULTS.customers})
  --terminals N   (default ${TRAIN_DEFAULTS.terminals})
  --out FILE      ONNX file to write (default examples/fraud/model.onnx; model.json beside it)
  --model lr|gbt  logistic regression (default) or gradient-boosted trees (exported as ONNX-ML
                  TreeEnsembleClassifier)
  --protocol default|handbook
                  default: train after a 37-day warm-up, validate on the last 21 days;
                  handbook: the Fraud Detection Handbook's evaluation: its population (5,000
                  customers, 10,000 terminals, seed 0), train on one week (2018-07-25..31), skip
                  7 days (labels not known yet), test on the next week; reports ROC-AUC, average
                  precision and card precision@100 per day (ignores --seed/--days/--customers/
                  --terminals unless given)
`;

export async function trainFraud(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    seed: { type: 'string' },
    days: { type: 'string' },
    customers: { type: 'string' },
    terminals: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    protocol: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(TRAIN_FRAUD_USAGE);
    return 0;
  }
  const out = values.out === undefined ? undefined : stringFlag(values.out, 'out', '');
  const model = stringFlag(values.model, 'model', 'lr');
  if (model !== 'lr' && model !== 'gbt') throw new UsageError(`--model must be lr or gbt, got "${model}"`);
  const protocol = stringFlag(values.protocol, 'protocol', 'default');
  if (protocol !== 'default' && protocol !== 'handbook')
    throw new UsageError(`--protocol must be default or handbook, got "${protocol}"`);
  const handbook = protocol === 'handbook';
  // Under the handbook protocol its population and calendar apply unless a flag says otherwise.
  const given = (v: unknown, fallback: number | undefined) =>
    handbook && v === undefined ? undefined : fallback;
  const info = await trainFraudModel({
    model,
    protocol,
    seed: given(values.seed, intFlag(values.seed, 'seed', TRAIN_DEFAULTS.seed, 0, 2 ** 32 - 1)),
    days: given(
      values.days,
      intFlag(
        values.days,
        'days',
        TRAIN_DEFAULTS.days,
        handbook ? 136 : TRAIN_DEFAULTS.warmupDays + TRAIN_DEFAULTS.validationDays + 7,
        3650,
      ),
    ),
    customers: given(
      values.customers,
      intFlag(values.customers, 'customers', TRAIN_DEFAULTS.customers, 10, 1e7),
    ),
    terminals: given(
      values.terminals,
      intFlag(values.terminals, 'terminals', TRAIN_DEFAULTS.terminals, 10, 1e7),
    ),
    ...(out ? { modelPath: out, infoPath: out.replace(/\.onnx$/, '') + '.json' } : {}),
    log: (line) => process.stderr.write(line + '\n'),
  });
  process.stdout.write(JSON.stringify(info) + '\n');
  return 0;
}
