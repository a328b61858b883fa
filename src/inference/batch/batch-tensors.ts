// Joining requests' tensors along dim 0 and splitting a batch's outputs back into rows.
import { BatchOutputError } from '../serving-errors.js';
import { allocateTensorData } from '../../core/tensor-data.js';
import type { Tensor, TensorData } from '../tensor.js';

/**
 * Concatenates the same-named tensor of several requests along dim 0 (row-major data, so the
 * flat arrays are simply appended). All parts must share type and trailing dims (checked at enqueue).
 *
 * @example
 * concatRows([{ type: 'float32', data: a, dims: [1, 15] }, { type: 'float32', data: b, dims: [3, 15] }]); // dims [4, 15]
 */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  let rows = 0;
  let length = 0;
  for (const p of parts) {
    rows += p.dims[0]!;
    length += p.data.length;
  }
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string') {
    const out: string[] = [];
    for (const p of parts) for (const s of p.data as string[]) out.push(s);
    return { type: 'string', data: out, dims };
  }
  const out = allocateTensorData(first.type, length) as Exclude<TensorData, string[]>;
  let at = 0;
  for (const p of parts) {
    const d = p.data as Exclude<TensorData, string[]>;
    if (d.length === 1) out[at] = d[0]!;
    else (out as Float32Array).set(d as Float32Array, at);
    at += d.length;
  }
  return { type: first.type, data: out, dims };
}

/**
 * Rows `[start, start + count)` of a batch output, as a view (typed arrays are not copied).
 *
 * @example
 * sliceRows(scores, 4, 2); // dims [2, 1], data a subarray of scores.data
 */
export function sliceRows(t: Tensor, rowSize: number, start: number, count: number): Tensor {
  const from = start * rowSize;
  const to = from + count * rowSize;
  const dims = t.dims.slice();
  dims[0] = count;
  if (t.type === 'string') return { type: t.type, data: (t.data as string[]).slice(from, to), dims };
  return { type: t.type, data: (t.data as Float32Array).subarray(from, to), dims };
}

/**
 * Elements per row of a batch output, checking that its first dim is the batch's row count.
 *
 * @example
 * outputRowSize('score', { type: 'float32', data: new Float32Array(8), dims: [8, 1] }, 8); // 1
 */
export function outputRowSize(name: string, t: Tensor, rows: number): number {
  if (t.dims.length === 0 || t.dims[0] !== rows) {
    throw new BatchOutputError(
      `output "${name}" has dims [${t.dims.join(',')}], but the batch has ${rows} rows: ` +
        'a batched model must return one output row per input row (dim 0 = batch)',
    );
  }
  return rows === 0 ? 0 : t.data.length / rows;
}

/**
 * Concatenates several requests' inputs, name by name, along dim 0.
 *
 * @example
 * const batch = concatInputs([req1.inputs, req2.inputs]);
 */
export function concatInputs(parts: readonly Record<string, Tensor>[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(parts[0]!)) out[name] = concatRows(parts.map((p) => p[name]!));
  return out;
}

/** One request's share of a batch: its rows, and the outputs it reads (all when undefined). */
export interface BatchPart {
  rows: number;
  outputs?: readonly string[] | undefined;
}

/**
 * Splits a batch's outputs back into per-request outputs of `parts[i].rows` rows each (views),
 * each with only the outputs it asked for when it named them (`ModelRunOptions.outputs`).
 * Throws {@link BatchOutputError} when an output lacks the batch dim.
 *
 * @example
 * const [a, b] = splitOutputs(out, 4, [{ rows: 1 }, { rows: 3, outputs: ['score'] }]);
 */
export function splitOutputs(
  out: Record<string, Tensor>,
  rows: number,
  parts: readonly BatchPart[],
): Record<string, Tensor>[] {
  const names = Object.keys(out);
  const sizes = new Map<string, number>();
  for (const n of names) sizes.set(n, outputRowSize(n, out[n]!, rows));
  const split: Record<string, Tensor>[] = [];
  let at = 0;
  for (const part of parts) {
    const count = part.rows;
    const mine: Record<string, Tensor> = {};
    for (const n of part.outputs ?? names) {
      const t = out[n];
      if (t !== undefined) mine[n] = sliceRows(t, sizes.get(n)!, at, count);
    }
    at += count;
    split.push(mine);
  }
  return split;
}
