import { InvalidArgumentError } from '../errors.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import { allocateTensorData } from '../../core/tensor-data.js';
import type { Tensor } from '../tensor.js';

/**
 * What answers a call that failed (after retries) or was refused (open circuit, full
 * bulkhead): a default value, a rule computed from the inputs, or a second model.
 *
 * @example
 * const byValue: ResilienceFallback = { value: { score: 0.5 } };          // every row scores 0.5
 * const byRule: ResilienceFallback = { rule: (inputs) => ruleScores(inputs) };
 * const byModel: ResilienceFallback = { model: await OnnxModel.load('small.onnx') };
 */
export type ResilienceFallback =
  | {
      /** One number for every element of every output, or per output name a number or one row. */
      value: number | Record<string, number | readonly number[]>;
    }
  | {
      rule: (
        inputs: Record<string, Tensor>,
        error: Error,
      ) => Record<string, Tensor> | Promise<Record<string, Tensor>>;
    }
  | { model: Model };

/**
 * Turns a fallback spec into a function of (inputs, error), checking a `value` against the
 * model's outputs once, at construction.
 *
 * @example
 * const answer = fallbackFunction({ value: 0 }, model.metadata);
 * const out = await answer(inputs, err, undefined);
 */
export function fallbackFunction(
  spec: ResilienceFallback,
  meta: ModelMetadata,
): (
  inputs: Record<string, Tensor>,
  error: Error,
  options: ModelRunOptions | undefined,
) => Promise<Record<string, Tensor>> {
  if ('model' in spec) return (inputs, _error, options) => spec.model.run(inputs, options);
  if ('rule' in spec) return async (inputs, error) => spec.rule(inputs, error);
  const rows = valueRows(spec.value, meta);
  return async (inputs) => {
    const first = Object.values(inputs)[0];
    const n = first?.dims[0] ?? 1;
    const out: Record<string, Tensor> = {};
    for (const { spec: o, row } of rows) {
      const data = allocateTensorData(o.type, n * row.length);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < row.length; j++) {
          const at = i * row.length + j;
          if (o.type === 'int64') (data as BigInt64Array)[at] = BigInt(Math.trunc(row[j]!));
          else (data as Float32Array)[at] = row[j]!;
        }
      }
      out[o.name] = { type: o.type, data, dims: [n, ...rowDims(o.dims, row.length)] };
    }
    return out;
  };
}

function valueRows(
  value: number | Record<string, number | readonly number[]>,
  meta: ModelMetadata,
): { spec: ModelMetadata['outputs'][number]; row: number[] }[] {
  if (typeof value === 'object') {
    for (const name of Object.keys(value)) {
      if (!meta.outputs.some((o) => o.name === name))
        throw new InvalidArgumentError(
          `fallback value names output "${name}", which model "${meta.name}" does not have (it has ${meta.outputs.map((o) => `"${o.name}"`).join(', ')})`,
        );
    }
  }
  return meta.outputs.flatMap((o) => {
    const v = typeof value === 'number' ? value : value[o.name];
    if (v === undefined) return [];
    if (o.type === 'string' || o.type === 'bool')
      throw new InvalidArgumentError(
        `fallback value for output "${o.name}" of type ${o.type}: use a { rule } fallback for non-numeric outputs`,
      );
    const fixed = o.dims.slice(1).every((d) => typeof d === 'number' && d >= 0);
    const width = fixed ? (o.dims.slice(1) as number[]).reduce((a, b) => a * b, 1) : undefined;
    const row = typeof v === 'number' ? new Array<number>(width ?? 1).fill(v) : [...v];
    if (width !== undefined && row.length !== width)
      throw new InvalidArgumentError(
        `fallback value for output "${o.name}" has ${row.length} numbers per row; the output has ${width}`,
      );
    return [{ spec: o, row }];
  });
}

/** Dims after the batch dim: the declared ones when fixed, else one flat dim. */
function rowDims(declared: readonly (number | string)[], width: number): number[] {
  const rest = declared.slice(1);
  if (rest.every((d) => typeof d === 'number' && d >= 0)) return rest as number[];
  return rest.length === 0 ? [] : [width];
}
