import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { trainPipeline, type TrainingPipeline } from '../../apps/train-pipeline.js';
import { UsageError, intFlag, numberFlag, parseFlags, stringFlag } from '../args.js';
import { HISTORY_FLAGS, HISTORY_USAGE, historyRange } from '../history-flags.js';

export const TRAIN_USAGE = `sluice train PIPELINE.ts --input HISTORY --label FIELD [options]

Trains a model on your history with the features your pipeline computes online. PIPELINE.ts
default-exports { name?, fromRow?, eventTime, features, recordFeatures? } (the same eventTime and
.features() record as the live pipeline; see docs/inference.md "Training on your history").
The feature stages run over HISTORY in event time (a backfill), each row is labelled with FIELD
(0/1), the training set is written (CSV or Parquet), the last part of the time span is held out,
and the model is exported to ONNX with a model card JSON beside it (printed too).

  --input HISTORY   a file: CSV with a header, or NDJSON (.ndjson/.jsonl); or a topic of JSON
                    records: log:DIR/topic (an embedded log; stop the pipeline using it first)
                    or kafka://host:port/topic (any Kafka broker, "sluice broker" included)
${HISTORY_USAGE}
  --label FIELD     the 0/1 (or true/false) field of the record (after fromRow) to predict
  --model lr|gbt|mlp  logistic regression (default), gradient-boosted trees, or a one-hidden-layer MLP
  --out FILE        ONNX file (default NAME.onnx; the card is NAME.json beside it)
  --training-set FILE  the training set (default NAME.training.csv beside the model):
                    event_time, FIELD, then the features by name; Parquet when FILE ends in
                    .parquet (event_time a UTC ms timestamp, FIELD INT64, features DOUBLE)
  --format csv|parquet  the training set's format whatever its extension
  --test-fraction X share of the time span held out at the end (default 0.2)
  --label-delay-days N  days before the held-out part left out of training, as their labels
                    are not known yet when the model would be trained (default 0)

"sluice train fraud" trains the fraud example (see "sluice help train fraud").
`;

async function loadSpec(file: string): Promise<TrainingPipeline> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`pipeline file ${path} does not exist`);
  let mod: { default?: TrainingPipeline };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: TrainingPipeline };
  } catch (e) {
    throw new UsageError(
      `cannot load ${file}: ${(e as Error).message.split('\n')[0]} (it must be an ES module: inside a package with "type": "module", or named .mts)`,
    );
  }
  const spec = mod.default;
  if (!spec || typeof spec.eventTime !== 'function' || typeof spec.features !== 'object')
    throw new UsageError(
      `${file} must default-export { eventTime, features } (docs/inference.md "Training on your history")`,
    );
  return spec;
}

export async function train(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    input: { type: 'string' },
    label: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    'training-set': { type: 'string' },
    'test-fraction': { type: 'string' },
    'label-delay-days': { type: 'string' },
    format: { type: 'string' },
    ...HISTORY_FLAGS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(TRAIN_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('usage: sluice train PIPELINE.ts --input HISTORY --label FIELD');
  if (values.input === undefined || values.label === undefined)
    throw new UsageError('--input and --label are required');
  const model = stringFlag(values.model, 'model', 'lr');
  if (model !== 'lr' && model !== 'gbt' && model !== 'mlp')
    throw new UsageError(`--model must be lr, gbt or mlp, got "${model}"`);
  const file = positionals[0]!;
  const spec = await loadSpec(file);
  const name = spec.name ?? basename(file, extname(file));
  const out = stringFlag(values.out, 'out', `${name}.onnx`);
  const stem = out.replace(/\.onnx$/, '');
  const input = stringFlag(values.input, 'input', '');
  const format = values.format === undefined ? undefined : stringFlag(values.format, 'format', '');
  if (format !== undefined && format !== 'csv' && format !== 'parquet')
    throw new UsageError(`--format must be csv or parquet, got "${format}"`);
  const card = await trainPipeline(
    { ...spec, name },
    {
      input,
      range: historyRange(values, input),
      trainingSetFormat: format,
      label: stringFlag(values.label, 'label', ''),
      model,
      testFraction: numberFlag(values['test-fraction'], 'test-fraction', 0.2, 0.01, 0.99),
      labelDelayDays: intFlag(values['label-delay-days'], 'label-delay-days', 0, 0, 3650),
      modelPath: out,
      cardPath: `${stem}.json`,
      trainingSetPath: stringFlag(
        values['training-set'],
        'training-set',
        `${stem}.training.${format ?? 'csv'}`,
      ),
      log: (line) => process.stderr.write(line + '\n'),
    },
  );
  process.stdout.write(JSON.stringify(card) + '\n');
  return 0;
}
