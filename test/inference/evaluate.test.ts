import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceErrorCodes } from '../../src/inference/index.js';
import { averagePrecision, precisionAtK, rocAuc } from '../../src/train.js';
import { seededRandom } from '../../src/core/random.js';

const close = (actual: number, expected: number, eps = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

const invalid = { code: InferenceErrorCodes.invalidArgument };

describe('rocAuc', () => {
  it('matches the scikit-learn documentation example', () => {
    close(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  });

  it('counts tied positive/negative pairs as one half', () => {
    // pairs (pos, neg): (0.5,0.5)=½, (0.5,0.2)=1, (0.9,0.5)=1, (0.9,0.2)=1 -> 3.5/4
    close(rocAuc([0.5, 0.5, 0.2, 0.9], [0, 1, 0, 1]), 0.875);
    close(rocAuc([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1]), 0.5);
  });

  it('gives 1 for a perfect ranking and 0 for a reversed one', () => {
    close(rocAuc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
    close(rocAuc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
  });

  it('equals the pairwise definition on random data with ties', () => {
    const rand = seededRandom(7);
    const n = 300;
    const scores = Array.from({ length: n }, () => Math.round(rand() * 20) / 20);
    const labels = scores.map((s) => (rand() < s ? 1 : 0));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (labels[i] !== 1 || labels[j] !== 0) continue;
        pairs++;
        wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
    close(rocAuc(scores, labels), wins / pairs, 1e-12);
  });

  it('rejects a single class, mismatched lengths and non-binary labels', () => {
    assert.throws(() => rocAuc([0.1, 0.2], [1, 1]), { ...invalid, message: /needs both labels/ });
    assert.throws(() => rocAuc([0.1, 0.2], [1]), { ...invalid, message: /2 scores but 1 labels/ });
    assert.throws(() => rocAuc([0.1, 0.2], [1, 2]), { ...invalid, message: /labels\[1\] is 2/ });
    assert.throws(() => rocAuc([NaN, 0.2], [1, 0]), { ...invalid, message: /scores\[0\] is NaN/ });
  });
});

describe('averagePrecision', () => {
  it('matches the scikit-learn documentation example', () => {
    close(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 5 / 6);
  });

  it('sums recall steps times precision without interpolation', () => {
    // thresholds 0.9: P=1 R=1/3; 0.8: R unchanged; 0.7: P=2/3 R=2/3; 0.6: P=3/4 R=1
    close(averagePrecision([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 1, 0]), 1 / 3 + 2 / 9 + 1 / 4);
  });

  it('treats tied scores as one threshold', () => {
    // 0.5: tp=1 fp=1 -> P=½, R=½; 0.2: P=⅔, R=1
    close(averagePrecision([0.5, 0.5, 0.2], [1, 0, 1]), 0.25 + 1 / 3);
    close(averagePrecision([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 0]), 0.25);
  });

  it('rejects labels without positives', () => {
    assert.throws(() => averagePrecision([0.1, 0.2], [0, 0]), {
      ...invalid,
      message: /at least one label 1/,
    });
  });
});

describe('precisionAtK', () => {
  it('counts positives among the k highest scores', () => {
    close(precisionAtK([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0], 2), 0.5);
    close(precisionAtK([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0], 1), 1);
    close(precisionAtK([0.1, 0.8, 0.3, 0.9], [0, 0, 1, 1], 3), 2 / 3);
  });

  it('shares a tie at the cut-off in proportion, whatever the input order', () => {
    // 0.9 is a hit; one of two slots for the tied 0.5s, one of which is positive -> 1.5/2
    close(precisionAtK([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0], 2), 0.75);
    close(precisionAtK([0.5, 0.1, 0.9, 0.5], [0, 0, 1, 1], 2), 0.75);
  });

  it('reads k above n as n and rejects k < 1', () => {
    close(precisionAtK([0.2, 0.1], [1, 0], 10), 0.5);
    assert.throws(() => precisionAtK([0.2, 0.1], [1, 0], 0), { ...invalid, message: /k is 0/ });
  });
});
