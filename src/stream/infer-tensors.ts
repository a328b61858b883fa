// How `.infer()` turns records into one input tensor and the model's answer back into rows, for
// every tensor type a model can declare: numbers (float32 by default, as before), int32/int64,
// bool, strings (BYTES on KServe/Triton, text for OpenAI-compatible models) and JSON (any value,
// serialized into a string element; on the way out, parsed).
import { allocateTensorData, type TensorElementType, type TensorStorage } from '../core/tensor-data.js';
import type { Envelope } from './envelope.js';
import type { TensorLike } from './interfaces.js';
import { deadLetter, type Batch } from './steps.js';

/**
 * Element types `.infer()` feeds and reads: the model's tensor types, plus `json` (a string
 * tensor whose elements are JSON texts).
 *
 * @example
 * const kind: InferTensorKind = 'json';
 */
export type InferTensorKind = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string' | 'json';

export const INFER_TENSOR_KINDS: readonly InferTensorKind[] = [
  'float32',
  'float64',
  'int32',
  'int64',
  'bool',
  'string',
  'json',
];

/**
 * What `input()` gives for one record, by input kind: `width` numbers; `width` bigints or
 * integers; `width` booleans; a string (width 1) or `width` strings; any JSON value.
 */
export type InferInputRow<K extends InferTensorKind> = K extends 'float32' | 'float64' | 'int32'
  ? ArrayLike<number>
  : K extends 'int64'
    ? ArrayLike<number | bigint>
    : K extends 'bool'
      ? ArrayLike<boolean | number>
      : K extends 'string'
        ? string | readonly string[]
        : unknown;

/**
 * What `output()` gets for one record, by output kind: `float32` (the default) keeps the
 * original contract (a Float32Array or Float64Array row of numbers); the others the typed row;
 * `json` the parsed values.
 */
export type InferOutputRow<K extends InferTensorKind> = K extends 'float32'
  ? Float32Array | Float64Array
  : K extends 'float64'
    ? Float64Array
    : K extends 'int32'
      ? Int32Array
      : K extends 'int64'
        ? BigInt64Array
        : K extends 'bool'
          ? Uint8Array
          : K extends 'string'
            ? readonly string[]
            : readonly unknown[];

/** The tensor type a kind travels as (`json` is a string tensor). */
export function wireType(kind: InferTensorKind): string {
  return kind === 'json' ? 'string' : kind;
}

/** Packs records into the input tensor's data, one kind. */
export interface Packer {
  /**
   * The rows of the batch's records in one array, compacting the batch: a record whose `input`
   * throws or gives a row of the wrong width or type goes to the dead letters with the reason.
   */
  batch(batch: Batch, stage: string): TensorLike;
  /** The rows of records `lo..hi` again (a call's array may have been transferred). */
  range(recs: readonly Envelope<unknown>[], lo: number, hi: number): TensorLike;
}

type Store = TensorStorage;

/**
 * A packer for `kind`: `rank1` (the model's input has one dim) sends dims `[N]`, which needs
 * width 1; otherwise `[N, width]`.
 */
export function packer(
  kind: InferTensorKind,
  width: number,
  rank1: boolean,
  input: (value: unknown) => unknown,
  inputName: string,
): Packer {
  const type: TensorElementType = kind === 'json' ? 'string' : kind;
  const alloc = (n: number): Store => allocateTensorData(type, n);
  const wrongWidth = (row: unknown): Error =>
    new Error(
      kind === 'string'
        ? `infer: input gave ${describe(row)}, the model input "${inputName}" takes ${width} string(s) per record`
        : `infer: input gave ${(row as { length?: number } | undefined)?.length ?? String(row)} features, the model takes ${width}`,
    );
  /**
   * Writes one record's row at `at`; throws (with what to fix) when it does not fit. Chosen
   * once per kind: the float32 writer is the hot path and stays a plain copy loop.
   */
  const write: (store: Store, at: number, value: unknown) => void =
    kind === 'json'
      ? (store, at, value) => {
          const got = input(value);
          const text = JSON.stringify(got);
          if (text === undefined) throw new Error(`infer: input gave ${typeof got}, which is not JSON`);
          (store as string[])[at] = text;
        }
      : kind === 'string'
        ? (store, at, value) => {
            const got = input(value);
            if (typeof got !== 'string' && !Array.isArray(got))
              throw new Error(
                `infer: input gave ${describe(got)}, the model input "${inputName}" takes strings`,
              );
            const row = typeof got === 'string' ? [got] : (got as readonly unknown[]);
            if (row?.length !== width) throw wrongWidth(got);
            for (let j = 0; j < width; j++) {
              const v = row[j];
              if (typeof v !== 'string')
                throw new Error(
                  `infer: input gave ${describe(v)}, the model input "${inputName}" takes strings`,
                );
              (store as string[])[at + j] = v;
            }
          }
        : kind === 'int64'
          ? (store, at, value) => {
              const row = input(value) as ArrayLike<number | bigint>;
              if (row?.length !== width) throw wrongWidth(row);
              // BigInt() throws on a non-integer: the record goes to the dead letters.
              for (let j = 0; j < width; j++) (store as BigInt64Array)[at + j] = BigInt(row[j]!);
            }
          : kind === 'bool'
            ? (store, at, value) => {
                const row = input(value) as ArrayLike<unknown>;
                if (row?.length !== width) throw wrongWidth(row);
                for (let j = 0; j < width; j++)
                  (store as Uint8Array)[at + j] = row[j] === true || row[j] === 1 ? 1 : 0;
              }
            : (store, at, value) => {
                const row = input(value) as ArrayLike<number>;
                if (row?.length !== width) throw wrongWidth(row);
                const out = store as Float32Array;
                for (let j = 0; j < width; j++) out[at + j] = row[j]!;
              };
  const per = kind === 'json' ? 1 : width;
  const tensor = (data: Store, n: number): TensorLike => ({
    type: wireType(kind),
    data: data as TensorLike['data'],
    dims: rank1 ? [n] : [n, per],
  });
  return {
    batch(batch, stage) {
      const recs = batch.records as Envelope<unknown>[];
      const store = alloc(recs.length * per);
      let kept = 0;
      for (let i = 0; i < recs.length; i++) {
        const env = recs[i]!;
        try {
          write(store, kept * per, env.value);
        } catch (e) {
          deadLetter(batch, env, stage, e, env.value);
          continue;
        }
        recs[kept++] = env;
      }
      if (recs.length !== kept) recs.length = kept; // a length write costs even when equal
      const data =
        kept * per === store.length
          ? store
          : Array.isArray(store)
            ? store.slice(0, kept * per)
            : store.subarray(0, kept * per);
      return tensor(data, kept);
    },
    range(recs, lo, hi) {
      const store = alloc((hi - lo) * per);
      for (let i = lo; i < hi; i++) write(store, (i - lo) * per, recs[i]!.value);
      return tensor(store, hi - lo);
    },
  };
}

/**
 * Reads rows `start..end` of an output's data as the kind's row: a view for typed arrays, a
 * slice for strings, parsed values for `json` (throws, naming the row's text, when one does
 * not parse: the record goes to the dead letters).
 */
export function rowReader(kind: InferTensorKind): (data: unknown, start: number, end: number) => unknown {
  if (kind === 'json')
    return (data, start, end) => {
      const texts = data as readonly unknown[];
      const out: unknown[] = [];
      for (let i = start; i < end; i++) {
        const t = texts[i];
        try {
          out.push(typeof t === 'string' ? JSON.parse(t) : t);
        } catch (e) {
          throw new Error(
            `inference failed: output is not JSON (${(e as Error).message}): ${JSON.stringify(String(t).slice(0, 80))}`,
          );
        }
      }
      return out;
    };
  return (data, start, end) =>
    Array.isArray(data) ? data.slice(start, end) : (data as Float32Array).subarray(start, end);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object' && typeof (v as ArrayLike<unknown>).length === 'number')
    return `${(v as ArrayLike<unknown>).length} value(s)`;
  return `a ${typeof v}`;
}
