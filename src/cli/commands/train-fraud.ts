import { trainFraudModel, trainFraudModelOnInput, TRAIN_DEFAULTS } from '../../apps/fraud/train.js';
import { UsageError, intFlag, parseFlags, stringFlag } from '../args.js';
import { HISTORY_FLAGS, HISTORY_USAGE, historyRange } from '../history-flags.js';

export const TRAIN_FRAUD_USAGE = `sluice train fraud [options]

Generates transaction history (another seed than the demo's) or reads yours (--input), computes
the same windowed features as the live pipeline (the demo's own stages, run in event time: a
backfill), trains, exports ONNX and a model card JSON beside it (./fraud-model.onnx +
fraud-model.json unless --out: features, data range, train/test days, held-out ROC-AUC, AP, card
precision@100, threshold), says where on stderr and prints the card. The demo's shipped default
model (examples/fraud/model.onnx) is rewritten only when --out names it (npm run train:fraud).

  --input FILE.csv | log:DIR/transactions | kafka://host:port/transactions
                  train on your history in the Fraud Detection Handbook's CSV layout
                  (TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD; labels
                  from TX_FRAUD); split: --train-days, then --gap-days whose labels are not known
                  yet, then --test-days (7 each), ending at the file's last day (--protocol
                  default) or training from the file's day 115 as the handbook does
                  (--protocol handbook, for its 2018-04-01.. data)
                  or a topic of the demo's JSON transactions: log:DIR/transactions (e.g. a
                  stopped demo's data/log) or kafka://host:port/transactions
${HISTORY_USAGE}
  --features-out FILE.csv|FILE.parquet
                  with --input: write the training set (the --features-out layout of
                  "sluice demo fraud": handbook column names, TX_FRAUD the label); Parquet
                  when the name ends in .parquet
  --train-days N, --gap-days N, --test-days N   with --input (default 7 each)

  --seed S        history seed (default ${TRAIN_DEFAULTS.seed})
  --days N        days of history (default ${TRAIN_DEFAULTS.days})
  --customers N   (default ${TRAIN_DEFAULTS.customers})
  --terminals N   (default ${TRAIN_DEFAULTS.terminals})
  --out FILE      ONNX file to write (default ./fraud-model.onnx; the card FILE.json beside it)
  --model lr|gbt|auto
                  logistic regression (default), gradient-boosted trees (exported as ONNX-ML
                  TreeEnsembleClassifier), or auto: both searched with --select, the best kept
                  (the committed examples/fraud/model.onnx is "--model auto" on the defaults:
                  "npm run train:fraud" rewrites it)
  --select        choose the model's settings by validation inside the training period: --folds
                  validation periods (as long as the test period) ending with the last training
                  day, each trained on the training length before its own label-delay gap; the
                  highest mean validation AP wins (the cheapest to serve within 0.001); the test
                  period is never read. The card records the candidates, folds and scores
  --folds N       validation folds for --select (default 4)
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
    select: { type: 'boolean' },
    folds: { type: 'string' },
    input: { type: 'string' },
    'features-out': { type: 'string' },
    'train-days': { type: 'string' },
    'gap-days': { type: 'string' },
    'test-days': { type: 'string' },
    ...HISTORY_FLAGS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(TRAIN_FRAUD_USAGE);
    return 0;
  }
  const out = values.out === undefined ? undefined : stringFlag(values.out, 'out', '');
  const model = stringFlag(values.model, 'model', 'lr');
  if (model !== 'lr' && model !== 'gbt' && model !== 'auto')
    throw new UsageError(`--model must be lr, gbt or auto, got "${model}"`);
  const selection = {
    select: values.select === true,
    folds: intFlag(values.folds, 'folds', 4, 1, 52),
  };
  const protocol = stringFlag(values.protocol, 'protocol', 'default');
  if (protocol !== 'default' && protocol !== 'handbook')
    throw new UsageError(`--protocol must be default or handbook, got "${protocol}"`);
  const handbook = protocol === 'handbook';
  // Without --out, training's own default (./fraud-model.onnx, its card beside it): never the
  // shipped examples/fraud/model.onnx.
  const modelFiles = out === undefined ? {} : { modelPath: out };
  const log = (line: string) => process.stderr.write(line + '\n');
  if (values.input !== undefined) {
    const input = stringFlag(values.input, 'input', '');
    const card = await trainFraudModelOnInput(input, {
      range: historyRange(values, input),
      model,
      protocol,
      featuresOut:
        values['features-out'] === undefined
          ? undefined
          : stringFlag(values['features-out'], 'features-out', ''),
      trainDays: intFlag(values['train-days'], 'train-days', 7, 1, 3650),
      gapDays: intFlag(values['gap-days'], 'gap-days', 7, 0, 3650),
      testDays: intFlag(values['test-days'], 'test-days', 7, 1, 3650),
      ...modelFiles,
      ...selection,
      log,
    });
    process.stdout.write(JSON.stringify(card) + '\n');
    return 0;
  }
  if (values['features-out'] !== undefined) throw new UsageError('--features-out needs --input');
  if (Object.keys(HISTORY_FLAGS).some((f) => values[f] !== undefined))
    throw new UsageError('--from-*/--to-* select records of an --input topic');
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
    ...modelFiles,
    ...selection,
    log,
  });
  process.stdout.write(JSON.stringify(info) + '\n');
  return 0;
}
