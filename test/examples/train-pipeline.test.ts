import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backfillFraudFeatures } from '../../src/apps/fraud/backfill.js';
import { MODEL_INPUTS, MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { TX_CSV_HEADER, generateTransactions, toCsvRow } from '../../src/apps/fraud/generator.js';
import { trainPipeline } from '../../src/apps/train-pipeline.js';
import { OnnxModel } from '../../src/index.js';
import fraudSpec from '../../examples/fraud/train-pipeline.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-train-pipeline-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const txs = generateTransactions(12_000, { seed: 3, customers: 200, terminals: 400 });
const csv = join(tmp, 'history.csv');
writeFileSync(csv, [TX_CSV_HEADER, ...txs.map(toCsvRow)].join('\n') + '\n');

describe('sluice train PIPELINE.ts: a pipeline file that default-exports its feature stages', () => {
  it('writes a training set whose features equal the fraud app backfill, trains, exports ONNX + card', async () => {
    const out = join(tmp, 'cli', 'fraud.onnx');
    const p = spawnSync(
      process.execPath,
      [
        join(root, 'bin/sluice.js'),
        'train',
        join(root, 'examples/fraud/train-pipeline.ts'),
        '--input',
        csv,
        '--label',
        'fraud',
        '--label-delay-days',
        '7',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(p.status, 0, p.stderr);
    const card = JSON.parse(p.stdout);
    assert.deepEqual(card.features, [...MODEL_INPUTS]);
    assert.equal(card.data.rows, txs.length);
    assert.equal(card.training.labelDelayDays, 7);
    assert.ok(Date.parse(card.data.test[0]) - Date.parse(card.data.train[1]) === 7 * 86_400_000);
    assert.equal(typeof card.validation.roc_auc, 'number');
    assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'cli', 'fraud.json'), 'utf8')), card);

    const set = readFileSync(join(tmp, 'cli', 'fraud.training.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(set[0], ['event_time', 'fraud', ...MODEL_INPUTS].join());
    assert.equal(set.length, txs.length + 1);
    const fraud = await backfillFraudFeatures(csv);
    for (let i = 0; i < fraud.n; i++) {
      const cells = set[i + 1]!.split(',');
      assert.equal(Number(cells[1]), fraud.y[i]);
      for (let j = 0; j < MODEL_WIDTH; j++) {
        const want = fraud.X[i * MODEL_WIDTH + j]!;
        assert.ok(
          Math.abs(Number(cells[j + 2]) - want) <= 1e-9 * Math.max(1, Math.abs(want)),
          `row ${i} ${MODEL_INPUTS[j]}`,
        );
      }
    }
  });

  it('trains an MLP from the library, and the ONNX model scores rows', async () => {
    const modelPath = join(tmp, 'lib', 'mlp.onnx');
    const card = await trainPipeline(fraudSpec, {
      input: csv,
      label: 'fraud',
      model: 'mlp',
      modelPath,
      cardPath: join(tmp, 'lib', 'mlp.json'),
      trainingSetPath: join(tmp, 'lib', 'set.csv'),
    });
    assert.equal(card.kind, 'mlp');
    const model = await OnnxModel.load(modelPath);
    assert.equal(model.metadata.inputs[0]!.dims.at(-1), MODEL_WIDTH);
    await model.close();
  });

  it('explains a label that is not there', async () => {
    await assert.rejects(
      trainPipeline(fraudSpec, {
        input: csv,
        label: 'isFraud',
        modelPath: join(tmp, 'x.onnx'),
        cardPath: join(tmp, 'x.json'),
        trainingSetPath: join(tmp, 'x.csv'),
      }),
      /no rows with a 0\/1 "isFraud"/,
    );
  });

  it('answers bad command lines with what to fix (exit 2)', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin/sluice.js'), ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const spec = join(root, 'examples/fraud/train-pipeline.ts');
    const forest = run('train', spec, '--input', csv, '--label', 'fraud', '--model', 'forest');
    assert.equal(forest.status, 2);
    assert.match(forest.stderr, /--model must be lr, gbt or mlp/);
    const noLabel = run('train', spec, '--input', csv);
    assert.equal(noLabel.status, 2);
    assert.match(noLabel.stderr, /--input and --label are required/);
    const notSpec = join(tmp, 'not-a-spec.mts');
    writeFileSync(notSpec, 'export default { name: "x" };\n');
    const bad = run('train', notSpec, '--input', csv, '--label', 'fraud');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /must default-export \{ eventTime, features \}/);
    const fileRange = run('train', 'fraud', '--input', csv, '--from-time', '2018-07-01T00:00:00Z');
    assert.equal(fileRange.status, 2);
    assert.match(fileRange.stderr, /select records of a topic: give --input log:DIR\/topic or kafka:/);
    const badTime = run(
      'train',
      spec,
      '--input',
      'log:data/log/tx',
      '--label',
      'fraud',
      '--from-time',
      'July',
    );
    assert.equal(badTime.status, 2);
    assert.match(badTime.stderr, /--from-time must be an ISO 8601 time/);
    const format = run('train', spec, '--input', csv, '--label', 'fraud', '--format', 'arrow');
    assert.equal(format.status, 2);
    assert.match(format.stderr, /--format must be csv or parquet/);
    const oneFile = run('features', 'diff', csv);
    assert.equal(oneFile.status, 2);
    assert.match(oneFile.stderr, /usage: sluice features diff A.csv B.csv/);
  });
});
