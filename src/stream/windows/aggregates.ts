import { requireOption } from '../errors.js';

/**
 * An aggregate usable in windows (`.window().aggregate({...})`) and, for count/sum/mean, in
 * per-record lookbacks (`lookback({ aggregate })`). Accumulators are plain data (numbers,
 * arrays, Uint8Array), so state checkpoints without custom serialisers.
 */
export interface Aggregate<T, A = unknown, R = unknown> {
  /** Set for the aggregates lookback windows can compute from prefix sums. */
  readonly kind?: 'count' | 'sum' | 'mean';
  readonly field?: (value: T) => number;
  /** Value reported for an empty lookback window. */
  readonly empty: number;
  init(): A;
  add(acc: A, value: T, eventTime: number): A;
  /** Combines two accumulators (session windows merge when a record bridges them). */
  merge(a: A, b: A): A;
  result(acc: A): R;
}

/**
 * An aggregate without a merge (`reduce(init, add)`): tumbling and hopping windows take it,
 * session windows do not (they merge sessions when a record bridges two).
 */
export type NonMergingAggregate<T, A = unknown, R = unknown> = Omit<Aggregate<T, A, R>, 'merge'> & {
  merge?: undefined;
};

/** Number of records. */
export function count<T = unknown>(): Aggregate<T, number, number> {
  return {
    kind: 'count',
    empty: 0,
    init: () => 0,
    add: (a) => a + 1,
    merge: (a, b) => a + b,
    result: (a) => a,
  };
}

/** Sum of `field`. */
export function sum<T>(field: (value: T) => number): Aggregate<T, number, number> {
  return {
    kind: 'sum',
    field,
    empty: 0,
    init: () => 0,
    add: (a, v) => a + field(v),
    merge: (a, b) => a + b,
    result: (a) => a,
  };
}

/** Mean of `field`; `empty` (default 0) when there is no record. */
export function mean<T>(
  field: (value: T) => number,
  opts: { empty?: number } = {},
): Aggregate<T, [number, number], number> {
  const empty = opts.empty ?? 0;
  return {
    kind: 'mean',
    field,
    empty,
    init: () => [0, 0],
    add: (a, v) => [a[0] + field(v), a[1] + 1],
    merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
    result: (a) => (a[1] === 0 ? empty : a[0] / a[1]),
  };
}

function extreme<T>(
  field: (value: T) => number,
  better: (a: number, b: number) => boolean,
): Aggregate<T, number | null, number | null> {
  return {
    empty: 0,
    init: () => null,
    add: (a, v) => {
      const x = field(v);
      return a === null || better(x, a) ? x : a;
    },
    merge: (a, b) => (a === null ? b : b === null ? a : better(b, a) ? b : a),
    result: (a) => a,
  };
}

/** Smallest `field` (null for none). */
export const min = <T>(field: (value: T) => number) => extreme(field, (a, b) => a < b);
/** Largest `field` (null for none). */
export const max = <T>(field: (value: T) => number) => extreme(field, (a, b) => a > b);

/** The value of `field` on the record with the latest event time (ties: the later arrival). */
export function last<T, R>(field: (value: T) => R): Aggregate<T, [number, R] | null, R | null> {
  return {
    empty: 0,
    init: () => null,
    add: (a, v, t) => (a === null || t >= a[0] ? [t, field(v)] : a),
    merge: (a, b) => (a === null ? b : b === null ? a : b[0] >= a[0] ? b : a),
    result: (a) => (a === null ? null : a[1]),
  };
}

/** 32-bit hash of a string or number (FNV-1a, then murmur3's finaliser to spread the bits). */
function hash32(x: string | number): number {
  const s = typeof x === 'number' ? `n${x}` : x;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Approximate number of distinct values of `field` (HyperLogLog with 2^precision registers:
 * precision 10 = 1 KiB per window, about 3 % standard error).
 */
export function distinctCount<T>(
  field: (value: T) => string | number,
  opts: { precision?: number } = {},
): Aggregate<T, Uint8Array, number> {
  const p = opts.precision ?? 10;
  requireOption(
    Number.isInteger(p) && p >= 4 && p <= 16,
    `distinctCount: precision must be an integer from 4 to 16, got ${p}`,
  );
  const m = 1 << p;
  const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m === 64 ? 0.709 : m === 32 ? 0.697 : 0.673;
  return {
    empty: 0,
    init: () => new Uint8Array(m),
    add: (regs, v) => {
      const h = hash32(field(v));
      const idx = h >>> (32 - p);
      const rest = (h << p) >>> 0;
      const rank = rest === 0 ? 32 - p + 1 : Math.clz32(rest) + 1;
      if (rank > regs[idx]!) regs[idx] = rank;
      return regs;
    },
    merge: (a, b) => {
      for (let i = 0; i < m; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
      return a;
    },
    result: (regs) => {
      let sumInv = 0;
      let zeros = 0;
      for (let i = 0; i < m; i++) {
        sumInv += 2 ** -regs[i]!;
        if (regs[i] === 0) zeros++;
      }
      const est = (alpha * m * m) / sumInv;
      // Small-range correction (linear counting), as in the HyperLogLog paper.
      return Math.round(est <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : est);
    },
  };
}

/**
 * A user reducer: `init` once per window, `add` per record. Give `merge` to use it in session
 * windows (they merge sessions when a record bridges two): without one it is a
 * `NonMergingAggregate`, which `session()` windows do not accept (a type error; at run time a
 * SluiceError when the window is built).
 *
 * @example
 * reduce(() => [] as string[], (acc, t: Tx) => [...acc, t.merchant], (a, b) => [...a, ...b])
 */
export function reduce<T, A>(
  init: () => A,
  add: (acc: A, value: T) => A,
  merge: (a: A, b: A) => A,
): Aggregate<T, A, A>;
export function reduce<T, A>(init: () => A, add: (acc: A, value: T) => A): NonMergingAggregate<T, A, A>;
export function reduce<T, A>(
  init: () => A,
  add: (acc: A, value: T) => A,
  merge?: (a: A, b: A) => A,
): NonMergingAggregate<T, A, A> | Aggregate<T, A, A> {
  const agg = { empty: 0, init, add: (a: A, v: T) => add(a, v), result: (a: A) => a };
  return merge === undefined ? agg : { ...agg, merge };
}
