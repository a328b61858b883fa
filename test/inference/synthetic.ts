// Seeded synthetic data for the inference tests: same seed, same rows, on every machine.

import { seededRandom } from '../../src/core/random.js';

/** Standard normal draws by Box–Muller. */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface SyntheticSet {
  X: Float32Array;
  y: Uint8Array;
  /** The true logit of each row (for the best achievable AUC). */
  logit: Float64Array;
  n: number;
  f: number;
}

/**
 * Rows of `f` features with varied means and scales (so standardization matters), the last one
 * constant; labels drawn from a known logistic model (about 23% positives).
 */
export function syntheticSet(n: number, f: number, seed: number): SyntheticSet {
  const rand = seededRandom(seed);
  const normal = gaussian(rand);
  const coefRand = seededRandom(12345); // the true model is the same for every seed
  const coef = Array.from({ length: f }, (_, j) => (j === f - 1 ? 0 : (coefRand() * 2 - 1) * 1.5));
  const offsets = Array.from({ length: f }, (_, j) => j * 10 - 30);
  const scales = Array.from({ length: f }, (_, j) => 0.5 + (j % 4) * 20);
  const X = new Float32Array(n * f);
  const y = new Uint8Array(n);
  const logit = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = -3;
    for (let j = 0; j < f; j++) {
      const standard = j === f - 1 ? 0 : normal();
      X[i * f + j] = j === f - 1 ? 7 : offsets[j]! + scales[j]! * standard;
      z += coef[j]! * standard;
    }
    logit[i] = z;
    y[i] = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, y, logit, n, f };
}
