// The project's one seeded pseudo-random generator: trainers (MLP weights, shuffles), examples and
// tests draw from it, so the same seed gives the same numbers everywhere. Not for secrets: use
// node:crypto for those.

/**
 * A seeded PRNG (mulberry32), uniform in [0, 1): same seed, same sequence on every machine.
 *
 * @example
 * const rand = seededRandom(42); rand(); // 0.6011...
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
