import type { RecordKey } from '../envelope.js';
import type { Aggregate } from './aggregates.js';

/** What a result is built from: a window's bounds and accumulators. */
interface WindowLike {
  readonly start: number;
  readonly end: number;
  readonly accs: unknown[];
}

/** What a record is folded in from: its value and event time. */
interface RecordLike<T> {
  readonly value: T;
  readonly eventTime: number;
}

/**
 * The per-record and per-result functions of one operator's aggregates. They take the record,
 * not its value and event time: a number passed to a call that is not inlined gets boxed.
 */
interface Kernels<T> {
  /** Accumulators of a new window holding one record: each aggregate's `add(init(), ...)`. */
  first(rec: RecordLike<T>): unknown[];
  /** `first`, written into a closed window's accumulators instead of a new array. */
  refill(accs: unknown[], rec: RecordLike<T>): void;
  /** Folds one record into a window's accumulators, in place. */
  add(accs: unknown[], rec: RecordLike<T>): void;
  /**
   * The user-facing result of a window: its key and bounds, then one field per aggregate. It
   * takes the window, not its bounds: numbers passed to a call that is not inlined get boxed.
   */
  result(key: RecordKey, w: WindowLike): Record<string, unknown>;
}

/**
 * The aggregates of one window operator, as functions specialised to them: each aggregate gets
 * its own call site (so V8 inlines it and numbers stay unboxed), a new window's accumulators
 * are one array literal (all-number accumulators become an unboxed double array), and each
 * result is one object literal. A literal is one allocation site, which V8 pretenures when its
 * objects outlive the young generation (results kept by a sink): built field by field, results
 * were copied by every scavenge and the collector took a third of the pipeline's time.
 */
export class AggregateSet<T> implements Kernels<T> {
  readonly size: number;
  readonly first: Kernels<T>['first'];
  readonly refill: Kernels<T>['refill'];
  readonly add: Kernels<T>['add'];
  readonly result: Kernels<T>['result'];
  private readonly aggs: Aggregate<T>[];

  constructor(aggregates: Record<string, Aggregate<T>>) {
    const names = Object.keys(aggregates);
    this.aggs = Object.values(aggregates);
    this.size = names.length;
    const k = compiled(names, this.aggs) ?? looped(names, this.aggs);
    this.first = k.first;
    this.refill = k.refill;
    this.add = k.add;
    this.result = k.result;
  }

  /** Fresh accumulators (no record yet). */
  empty(): unknown[] {
    return this.aggs.map((a) => a.init());
  }

  /** Accumulators of two windows merged into one (sessions bridged by a record). */
  merge(a: unknown[], b: unknown[]): unknown[] {
    // Session windows accept only aggregates with a merge (checked when the window is built).
    return this.aggs.map((agg, k) => agg.merge(a[k], b[k]));
  }
}

/**
 * The kernels as generated code, unrolled per aggregate. Names are embedded as JSON string
 * literals; undefined (use `looped`) where code generation is disallowed or a name would
 * mean something else in a literal (`__proto__` sets the prototype there).
 */
function compiled<T>(names: string[], aggs: Aggregate<T>[]): Kernels<T> | undefined {
  if (names.includes('__proto__')) return undefined;
  const ks = names.map((_, k) => k);
  const src = `return {
    first: (r) => { const v = r.value, t = r.eventTime; return [${ks.map((k) => `a${k}.add(a${k}.init(), v, t)`).join(', ')}]; },
    refill: (acc, r) => { const v = r.value, t = r.eventTime; ${ks.map((k) => `acc[${k}] = a${k}.add(a${k}.init(), v, t);`).join(' ')} },
    add: (acc, r) => { const v = r.value, t = r.eventTime; ${ks.map((k) => `acc[${k}] = a${k}.add(acc[${k}], v, t);`).join(' ')} },
    result: (key, w) => {
      const acc = w.accs;
      return { key, start: w.start, end: w.end, ${names
        .map((n, k) => `${JSON.stringify(n)}: a${k}.result(acc[${k}])`)
        .join(', ')} };
    },
  };`;
  try {
    return new Function(...ks.map((k) => `a${k}`), src)(...aggs) as Kernels<T>;
  } catch {
    return undefined; // e.g. node --disallow-code-generation-from-strings
  }
}

/** The same kernels as loops over the aggregates: same results, slower. */
function looped<T>(names: string[], aggs: Aggregate<T>[]): Kernels<T> {
  // Same key order as the literal: key, start, end, then each aggregate in turn.
  const template: Record<string, unknown> = { key: 0, start: 0, end: 0 };
  for (const n of names) template[n] = null;
  return {
    first: (r) => aggs.map((a) => a.add(a.init(), r.value, r.eventTime)),
    refill: (acc, r) => {
      for (let k = 0; k < aggs.length; k++) acc[k] = aggs[k]!.add(aggs[k]!.init(), r.value, r.eventTime);
    },
    add: (acc, r) => {
      for (let k = 0; k < aggs.length; k++) acc[k] = aggs[k]!.add(acc[k], r.value, r.eventTime);
    },
    result: (key, w) => {
      const value: Record<string, unknown> = { ...template, key, start: w.start, end: w.end };
      for (let k = 0; k < aggs.length; k++) value[names[k]!] = aggs[k]!.result(w.accs[k]);
      return value;
    },
  };
}
