/**
 * Small, fast, seeded pseudo-random numbers for the fraud example.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state, passes
 * PractRand), seeded through splitmix32 so that nearby seeds (0, 1, 2, …) give unrelated streams.
 * Every draw works on the instance's four 32-bit integers only: no allocation per draw.
 *
 * @example
 * ```ts
 * import { Rng, deriveSeed } from './random.js';
 * const rng = new Rng(42);
 * rng.uniform();       // [0, 1)
 * rng.normal(0, 1);    // Box–Muller, the second value of each pair is cached
 * rng.poisson(2.5);    // Knuth below lambda 30, PTRS (Hörmann) above
 * rng.int(6);          // 0..5
 * const dayRng = new Rng(deriveSeed(42, 1, 17)); // independent stream for (stream 1, day 17)
 * ```
 */

const TWO_POW_32 = 4294967296;
const GOLDEN = 0x9e3779b9;

/** The splitmix32 output function: a bijective 32-bit mixer. Returns an unsigned 32-bit integer. */
export function mix32(x: number): number {
  let t = x | 0;
  t ^= t >>> 16;
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

/** Folds any finite number (integers up to 2^53, negatives, fractions) into 32 bits. */
function fold(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const int = Math.trunc(seed);
  const lo = int >>> 0;
  const hi = Math.floor(int / TWO_POW_32) >>> 0;
  const frac = Math.round((seed - int) * TWO_POW_32) >>> 0;
  return (lo ^ mix32(hi + GOLDEN) ^ mix32(frac ^ 0x6a09e667)) >>> 0;
}

/**
 * Derives an independent 32-bit seed from a base seed and integer keys, e.g. (seed, stream, day).
 * Equal inputs give equal outputs; any change of one input changes the result unpredictably.
 */
export function deriveSeed(seed: number, a = 0, b = 0, c = 0): number {
  let h = mix32(fold(seed) + GOLDEN);
  h = mix32((h ^ Math.imul(a | 0, 0x85ebca6b)) + GOLDEN);
  h = mix32((h ^ Math.imul(b | 0, 0xc2b2ae35)) + GOLDEN);
  h = mix32((h ^ Math.imul(c | 0, 0x27d4eb2f)) + GOLDEN);
  return h;
}

/**
 * numpy's log-gamma (Stirling series with a shift below 7), accurate to ~1e-15 for x >= 1; only
 * used by the large-lambda Poisson path.
 */
function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  const n = x < 7 ? Math.trunc(7 - x) : 0;
  let x0 = x + n;
  const x2 = 1 / (x0 * x0);
  let gl0 = -1.3924322169059;
  gl0 = gl0 * x2 + 0.1796443723688307;
  gl0 = gl0 * x2 - 0.02955065359477124;
  gl0 = gl0 * x2 + 0.00641025641025641;
  gl0 = gl0 * x2 - 0.001917526917526918;
  gl0 = gl0 * x2 + 0.0008417508417508418;
  gl0 = gl0 * x2 - 0.0005952380952380952;
  gl0 = gl0 * x2 + 0.0007936507936507937;
  gl0 = gl0 * x2 - 0.002777777777777778;
  gl0 = gl0 * x2 + 0.08333333333333333;
  let gl = gl0 / x0 + 0.5 * 1.8378770664093453 + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 1; k <= n; k++) {
    gl -= Math.log(x0 - 1);
    x0 -= 1;
  }
  return gl;
}

/** Seeded sfc32 generator with uniform, normal, Poisson and integer helpers. */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private hasSpare = false;
  private spare = 0;

  constructor(seed = 0) {
    this.reseed(seed);
  }

  /** Restarts the stream from `seed` without allocating (handy for per-day generators). */
  reseed(seed: number): this {
    let s = fold(seed);
    s = (s + GOLDEN) | 0;
    this.a = mix32(s) | 0;
    s = (s + GOLDEN) | 0;
    this.b = mix32(s) | 0;
    s = (s + GOLDEN) | 0;
    this.c = mix32(s) | 0;
    s = (s + GOLDEN) | 0;
    this.d = mix32(s) | 0;
    this.hasSpare = false;
    this.spare = 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
    return this;
  }

  /** Next raw output, an unsigned 32-bit integer. */
  nextUint32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    this.d = (d + 1) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * (this.nextUint32() / TWO_POW_32);
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32 (multiply-shift; bias below 2^-32 · n). */
  int(n: number): number {
    return Math.floor((this.nextUint32() / TWO_POW_32) * n);
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.nextUint32() / TWO_POW_32 < p;
  }

  /** Normal(mean, sd) by Box–Muller; each pair of uniforms yields two draws, the second is cached. */
  normal(mean = 0, sd = 1): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return mean + sd * this.spare;
    }
    const u1 = 1 - this.nextUint32() / TWO_POW_32; // (0, 1]: log(u1) is finite
    const u2 = this.nextUint32() / TWO_POW_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return mean + sd * r * Math.cos(theta);
  }

  /**
   * Poisson(lambda): Knuth's multiplication method below lambda 30 (expected lambda + 1 uniforms),
   * Hörmann's PTRS transformed rejection above (as numpy does from lambda 10).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) return this.poissonKnuth(Math.exp(-lambda));
    return this.poissonPtrs(lambda);
  }

  /** Knuth's method given exp(-lambda) precomputed by the caller (saves one exp per draw). */
  poissonKnuth(expNegLambda: number): number {
    let k = 0;
    let p = this.nextUint32() / TWO_POW_32;
    while (p > expNegLambda) {
      k++;
      p *= this.nextUint32() / TWO_POW_32;
    }
    return k;
  }

  private poissonPtrs(lam: number): number {
    const slam = Math.sqrt(lam);
    const loglam = Math.log(lam);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
        -lam + k * loglam - logGamma(k + 1)
      ) {
        return k;
      }
    }
  }
}
