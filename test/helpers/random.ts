/** The project's seeded PRNG (mulberry32), for reproducible test inputs: uniform in [0, 1). */
export { seededRandom as rng } from '../../src/inference/train/dataset.js';
