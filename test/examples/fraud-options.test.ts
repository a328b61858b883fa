import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cardPrecisionAtK } from '../../src/apps/fraud/card-precision.js';
import { runFraudDemo } from '../../src/apps/fraud/demo.js';
import { FEATURES_CSV_HEADER } from '../../src/apps/fraud/features-csv.js';
import { MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { TX_CSV_HEADER, generateTransactions, toCsvRow } from '../../src/apps/fraud/generator.js';
import { featureRows, trainFraudModel } from '../../src/apps/fraud/train.js';
import { OnnxModel } from '../../src/index.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-opts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const txs = generateTransactions(16_000, { seed: 5, customers: 200, terminals: 400 }); // ~40 days
const csv = join(tmp, 'tx.csv');
// The handbook's layout plus an extra column, which is ignored.
writeFileSync(
  csv,
  [`${TX_CSV_HEADER},TX_FRAUD_SCENARIO`, ...txs.map((t) => `${toCsvRow(t)},${t.scenario}`)].join('\n') + '\n',
);

describe('fraud demo options and the handbook evaluation', () => {
  it('--input reads the handbook CSV and --features-out writes the same features as training computes', async () => {
    const featuresOut = join(tmp, 'features.csv');
    const r = await runFraudDemo({
      events: Infinity,
      dataDir: join(tmp, 'in'),
      input: csv,
      featuresOut,
      warmupDays: 7,
    });
    assert.equal(r.processed, txs.length);
    assert.equal(r.dead_letters, 0);
    assert.equal(typeof r.quality.card_precision_at_100, 'number');
    const lines = readFileSync(featuresOut, 'utf8').trim().split('\n');
    assert.equal(lines[0], FEATURES_CSV_HEADER);
    assert.equal(lines.length, txs.length + 1);
    const { X } = await featureRows(txs.map(({ scenario: _s, ...t }) => t));
    for (const i of [0, 1234, 9999, txs.length - 1]) {
      const cells = lines[i + 1]!.split(',');
      assert.equal(Number(cells[0]), txs[i]!.id);
      const row = [cells[4], cells[6], cells[7], ...cells.slice(8)].map(Number);
      for (let j = 0; j < MODEL_WIDTH; j++)
        assert.ok(Math.abs(row[j]! - X[i * MODEL_WIDTH + j]!) < 1e-6, `row ${i} col ${j}`);
    }
  });

  it('rejects an input without the handbook columns, naming them', async () => {
    const bad = join(tmp, 'bad.csv');
    writeFileSync(bad, 'id,when,amount\n1,2018-04-01 00:00:00,5\n');
    await assert.rejects(
      runFraudDemo({ events: Infinity, dataDir: join(tmp, 'bad'), input: bad }),
      /lacks the column\(s\) CUSTOMER_ID, TERMINAL_ID, TX_DATETIME|lacks the column/,
    );
  });

  it('computes card precision@k per day, blocking cards once found', () => {
    const day = 86_400_000;
    // Day 0: card 1 (fraud) ranks first, card 2 second; day 1: card 1 is blocked, card 3 (fraud) first.
    const r = cardPrecisionAtK(
      {
        scores: [0.9, 0.8, 0.7, 0.95, 0.6],
        labels: [1, 0, 0, 1, 1],
        cards: [1, 2, 2, 1, 3],
        times: [0, 1, 2, day, day + 1],
      },
      1,
    );
    assert.deepEqual(r.perDay, [1, 1]);
  });

  it('trains GBT with the handbook protocol (week, 7-day gap, week) and the demo scores with --model', async () => {
    const modelPath = join(tmp, 'gbt.onnx');
    const info = await trainFraudModel({
      protocol: 'handbook',
      model: 'gbt',
      customers: 150,
      terminals: 300,
      modelPath,
      infoPath: join(tmp, 'gbt.json'),
    });
    assert.equal(info.kind, 'gradient-boosted-trees');
    assert.equal(info.protocol, 'handbook');
    assert.ok(info.validation.roc_auc > 0.7, `AUC ${info.validation.roc_auc}`);
    assert.equal(typeof info.validation.card_precision_at_100, 'number');
    const model = await OnnxModel.load(modelPath);
    assert.deepEqual(model.metadata.outputs[0]!.name, 'score');
    await model.close();
    const p = spawnSync(
      process.execPath,
      [
        join(root, 'bin/sluice.js'),
        'demo',
        'fraud',
        '--json',
        '--quiet',
        '--no-dashboard',
        '--input',
        csv,
        '--model',
        modelPath,
        '--data',
        join(tmp, 'gbt-run'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(p.status, 0, p.stderr);
    const r = JSON.parse(p.stdout);
    assert.equal(r.processed, txs.length);
    assert.ok(r.quality.roc_auc > 0.7, `demo AUC ${r.quality.roc_auc}`);
    const usage = spawnSync(
      process.execPath,
      [join(root, 'bin/sluice.js'), 'train', 'fraud', '--model', 'forest'],
      { encoding: 'utf8' },
    );
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--model must be lr, gbt or auto/);
  });
});
