import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { FeatureMatrix } from '../../src/apps/fraud/backfill.js';
import { MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { TransactionGenerator } from '../../src/apps/fraud/generator.js';
import {
  selectCandidate,
  validationFolds,
  type SelectionGrid,
  type TimeSplit,
} from '../../src/apps/fraud/select.js';
import { featureRows, trainFraudModel } from '../../src/apps/fraud/train.js';
import { days } from '../../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-select-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DAY = days(1);
const START = Date.UTC(2018, 3, 1);
const at = (day: number) => START + day * DAY;
const iso = (day: number) => new Date(at(day)).toISOString().slice(0, 10);
// The handbook's calendar: train days 115..121 (07-25..31), 7-day gap, test days 129..135.
const HANDBOOK: TimeSplit = { trainFrom: at(115), trainTo: at(122), testFrom: at(129), testTo: at(136) };

// A shorter calendar for the small history: train 7 days, a 4-day delay, test 4 days.
const SMALL: TimeSplit = { trainFrom: at(50), trainTo: at(57), testFrom: at(61), testTo: at(65) };

// A small grid so the selection runs in a second or two.
const GRID: SelectionGrid = {
  lr: { l2: [1e-4, 1e-2], classWeight: [undefined] },
  gbt: { maxDepth: [2, 3], minSamplesLeaf: [20], learningRate: [{ rate: 0.1, trees: [10, 30] }] },
};

describe('fraud model selection by validation inside the training period', () => {
  it('carves the folds from the training period: each ends by the last training day, trained before its own gap', () => {
    const folds = validationFolds(HANDBOOK, { folds: 4, earliest: at(37) });
    assert.equal(folds.length, 4);
    // fold 0 is the handbook's own validation split: train 07-11..17, validate 07-25..31
    assert.deepEqual(
      [folds[0]!.trainFrom, folds[0]!.trainTo, folds[0]!.validFrom, folds[0]!.validTo],
      [at(101), at(108), at(115), at(122)],
    );
    for (const [k, f] of folds.entries()) {
      assert.ok(f.validTo <= HANDBOOK.trainTo && f.validTo < HANDBOOK.testFrom, `fold ${k} reaches the test`);
      assert.equal(f.validFrom - f.trainTo, HANDBOOK.testFrom - HANDBOOK.trainTo, 'the label delay');
      assert.equal(f.validTo - f.validFrom, 7 * DAY);
      assert.equal(f.trainTo - f.trainFrom, 7 * DAY);
    }
    // Folds that would train before the windows are full are cut short, then dropped.
    const short = validationFolds(HANDBOOK, { folds: 12, earliest: at(60) });
    assert.ok(short.every((f) => f.trainFrom >= at(60) && f.trainTo - f.trainFrom >= DAY));
    assert.ok(short.length < 12 && short.length >= 6, `${short.length} folds`);
  });

  let m: FeatureMatrix;
  before(async () => {
    const gen = new TransactionGenerator({ seed: 3, customers: 300, terminals: 600 });
    const txs = [];
    for (let d = 0; d < SMALL.testTo / DAY - START / DAY; d++) txs.push(...gen.nextDay());
    const { X, y, ts } = await featureRows(txs);
    m = { n: y.length, X, y, ts, cards: Float64Array.from(txs, (t) => t.customerId) };
  });

  it('gives the same choice and scores whatever the test period holds', () => {
    const folds = validationFolds(SMALL, { folds: 2, earliest: at(37) });
    const chosen = selectCandidate(m, folds, ['lr', 'gbt'], GRID);
    // Scramble every row from the end of training on: features, labels, all of it.
    const poisoned: FeatureMatrix = { ...m, X: m.X.slice(), y: m.y.slice() };
    for (let i = 0; i < m.n; i++)
      if (m.ts[i]! >= SMALL.trainTo) {
        poisoned.y[i] = 1 - m.y[i]!;
        for (let j = 0; j < MODEL_WIDTH; j++) poisoned.X[i * MODEL_WIDTH + j] = (i * 7919 + j) % 1000;
      }
    assert.deepEqual(selectCandidate(poisoned, folds, ['lr', 'gbt'], GRID), chosen);
    // ...while the validation weeks do matter: the same scrambling there changes the scores.
    const moved: FeatureMatrix = { ...m, y: m.y.slice() };
    for (let i = 0; i < m.n; i++) if (m.ts[i]! >= at(53) && m.ts[i]! < at(57)) moved.y[i] = 1 - m.y[i]!;
    assert.notDeepEqual(selectCandidate(moved, folds, ['lr', 'gbt'], GRID).top, chosen.top);

    // 2 LR + 2 depths × 2 tree counts, each scored on both folds
    assert.equal(chosen.candidates, 6);
    assert.deepEqual(
      chosen.folds.map((f) => [f.train, f.validate]),
      [
        [
          [iso(42), iso(48)],
          [iso(53), iso(56)],
        ],
        [
          [iso(38), iso(44)],
          [iso(49), iso(52)],
        ],
      ],
    );
    const perFold = chosen.validation.average_precision_per_fold;
    assert.equal(perFold.length, 2);
    const mean = (perFold[0]! + perFold[1]!) / 2;
    assert.ok(Math.abs(chosen.validation.average_precision - mean) < 1e-4);
    // The chosen one is the best by mean validation AP, or within the tolerance of it and cheaper.
    assert.ok(chosen.validation.average_precision >= chosen.top[0]!.average_precision - 0.001 - 1e-4);
    const aps = chosen.top.map((t) => t.average_precision);
    assert.deepEqual(
      aps,
      [...aps].sort((a, b) => b - a),
    );
  });

  it('trains the chosen settings on the training period and records them, the folds and scores in the card', async () => {
    const info = await trainFraudModel({
      days: 72,
      customers: 300,
      terminals: 600,
      validationDays: 10,
      model: 'auto',
      folds: 2,
      grid: GRID,
      modelPath: join(tmp, 'auto.onnx'),
      infoPath: join(tmp, 'auto.json'),
    });
    const sel = info.selection!;
    assert.ok(sel, 'the card has the selection');
    assert.equal(sel.folds.length, 2);
    // Folds end with the training period: the held-out days come after all of them.
    for (const f of sel.folds) assert.ok(f.validate[1] <= info.data!.train[1] && f.train[1] < f.validate[0]);
    assert.equal(sel.folds[0]!.validate[1], info.data!.train[1]);
    const { model, ...settings } = sel.chosen;
    assert.equal(info.kind, model === 'gbt' ? 'gradient-boosted-trees' : 'logistic-regression');
    for (const [k, v] of Object.entries(settings)) assert.equal(info.hyperparameters![k], v, k);
    assert.equal(typeof sel.validation.average_precision, 'number');
    assert.ok(info.validation.roc_auc > 0.7, `held-out AUC ${info.validation.roc_auc}`);
  });

  it('sluice train fraud checks --folds', () => {
    const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
    const p = spawnSync(process.execPath, [bin, 'train', 'fraud', '--select', '--folds', '0'], {
      encoding: 'utf8',
    });
    assert.equal(p.status, 2);
    assert.match(p.stderr, /--folds must be an integer from 1 to 52, got "0"/);
  });
});
