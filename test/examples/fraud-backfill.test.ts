import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backfillFraudFeatures } from '../../src/apps/fraud/backfill.js';
import { runFraudDemo } from '../../src/apps/fraud/demo.js';
import { MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { TX_CSV_HEADER, generateTransactions, toCsvRow } from '../../src/apps/fraud/generator.js';
import type { FraudModelInfo } from '../../src/apps/fraud/model-info.js';
import { trainFraudModelOnInput } from '../../src/apps/fraud/train.js';
import { OnnxModel } from '../../src/index.js';
import { diffFeatureFiles } from '../../src/train.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-backfill-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// A handbook-layout history from the repo's generator (the handbook's simulator): ~40 days.
const txs = generateTransactions(16_000, { seed: 11, customers: 200, terminals: 400 });
const csv = join(tmp, 'history.csv');
writeFileSync(csv, [TX_CSV_HEADER, ...txs.map(toCsvRow)].join('\n') + '\n');
const backfillCsv = join(tmp, 'backfill.csv');

const sluice = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/sluice.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

describe('backfill, training on a handbook-layout CSV, and the online/offline parity check', () => {
  it('sluice train fraud --input trains on the file, writes ONNX + model card and the training set', () => {
    const out = join(tmp, 'model', 'fraud.onnx');
    const p = sluice(
      'train',
      'fraud',
      '--input',
      csv,
      '--model',
      'lr',
      '--out',
      out,
      '--features-out',
      backfillCsv,
      '--train-days',
      '10',
    );
    assert.equal(p.status, 0, p.stderr);
    const card = JSON.parse(p.stdout) as FraudModelInfo;
    assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'model', 'fraud.json'), 'utf8')), card);
    assert.equal(card.training.input, csv);
    assert.equal(card.data!.rows, txs.length);
    // Default split (training days 10 here): then 7 days whose labels are not known yet, 7 test days at the end.
    const lastDay = new Date(txs.at(-1)!.ts).toISOString().slice(0, 10);
    assert.equal(card.data!.test[1], lastDay);
    assert.equal(card.data!.label_delay_days, 7);
    assert.equal(Date.parse(card.data!.test[0]) - Date.parse(card.data!.train[1]), 8 * 86_400_000);
    assert.equal(Date.parse(card.data!.train[1]) - Date.parse(card.data!.train[0]), 9 * 86_400_000);
    // Better than chance on this small population (200 cards, 45 frauds in all); the handbook-size
    // figures are in the issue note.
    assert.ok(card.validation.roc_auc > 0.6, `held-out ROC-AUC ${card.validation.roc_auc}`);
    assert.ok(card.validation.average_precision > 0.05, `held-out AP ${card.validation.average_precision}`);
    assert.equal(card.validation.card_precision_at_100_per_day!.length, 7);
    assert.ok(card.threshold > 0 && card.threshold < 1);
    assert.ok(existsSync(out));
    const lines = readFileSync(backfillCsv, 'utf8').trim().split('\n');
    assert.equal(lines.length, txs.length + 1);
    assert.ok(lines[0]!.endsWith('TERMINAL_ID_RISK_30DAY_WINDOW'));
  });

  it('the exported model is what onnxruntime loads, 15 features wide', async () => {
    const model = await OnnxModel.load(join(tmp, 'model', 'fraud.onnx'));
    assert.deepEqual(
      model.metadata.inputs.map((i) => [i.name, i.dims.at(-1)]),
      [['features', MODEL_WIDTH]],
    );
    await model.close();
  });

  it('features computed online (demo --features-out) equal the backfill: 0 mismatches', async () => {
    const online = join(tmp, 'online.csv');
    const r = await runFraudDemo({
      events: Infinity,
      dataDir: join(tmp, 'demo'),
      input: csv,
      featuresOut: online,
    });
    assert.equal(r.processed, txs.length);
    const d = diffFeatureFiles(online, backfillCsv);
    assert.equal(d.matched, txs.length);
    assert.equal(d.columns.length, 5 + 2 + 12);
    assert.deepEqual([d.mismatches, d.missingInA, d.missingInB], [0, 0, 0], JSON.stringify(d.examples));
    const cli = sluice('features', 'diff', online, backfillCsv);
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(
      cli.stdout,
      /16000 records matched on TRANSACTION_ID, 19 columns compared: 0 mismatching cells/,
    );

    // A changed feature is caught, named, and fails the command.
    const lines = readFileSync(backfillCsv, 'utf8').split('\n');
    const cells = lines[5000]!.split(',');
    cells[18] = String(Number(cells[18]) + 0.5);
    lines[5000] = cells.join(',');
    const broken = join(tmp, 'broken.csv');
    writeFileSync(broken, lines.join('\n'));
    const bad = sluice('features', 'diff', online, broken, '--json');
    assert.equal(bad.status, 1);
    const bd = JSON.parse(bad.stdout);
    assert.equal(bd.mismatches, 1);
    assert.deepEqual(Object.keys(bd.mismatchesByColumn), [lines[0]!.split(',')[18]]);
  });

  it('point in time: features of a row do not change when the future is removed', async () => {
    const half = join(tmp, 'half.csv');
    writeFileSync(half, [TX_CSV_HEADER, ...txs.slice(0, 8000).map(toCsvRow)].join('\n') + '\n');
    const halfOut = join(tmp, 'half-features.csv');
    await backfillFraudFeatures(half, { featuresOut: halfOut });
    const d = diffFeatureFiles(halfOut, backfillCsv);
    assert.deepEqual([d.matched, d.mismatches, d.missingInB, d.missingInA], [8000, 0, 0, 8000]);
  });

  it('explains a history too short for the protocol', async () => {
    await assert.rejects(
      trainFraudModelOnInput(csv, {
        protocol: 'handbook',
        modelPath: join(tmp, 'x.onnx'),
        infoPath: join(tmp, 'x.json'),
      }),
      /too short for 7 training days, 7 delay days and 7 test days from day 115/,
    );
  });
});
