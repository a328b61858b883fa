import type { ModelMetadata, TensorSpec } from '../model.js';
import { SwapMismatchError } from '../serving-errors.js';
import { formatDims } from '../validate.js';

/**
 * Checks that a new model version can replace the live one: same input names, types and dims
 * (dynamic where the live one is dynamic), and every output the live one gives, same type.
 * Throws {@link SwapMismatchError} naming the difference.
 *
 * @example
 * checkCompatible(live.metadata, next.metadata);
 */
export function checkCompatible(live: ModelMetadata, next: ModelMetadata): void {
  const same = (a: TensorSpec, b: TensorSpec): boolean =>
    a.type === b.type &&
    a.dims.length === b.dims.length &&
    a.dims.every((d, i) => {
      const e = b.dims[i]!;
      const dynA = typeof d === 'string' || d < 0;
      const dynB = typeof e === 'string' || e < 0;
      return dynA === dynB && (dynA || d === e);
    });
  for (const a of live.inputs) {
    const b = next.inputs.find((s) => s.name === a.name);
    if (b === undefined || !same(a, b))
      throw new SwapMismatchError(
        `version ${next.version} of "${next.name}" takes input "${a.name}" as ${b ? `${b.type}${formatDims(b.dims)}` : 'nothing'}, ` +
          `the live version ${a.type}${formatDims(a.dims)}: callers would break, so it was not swapped in`,
      );
  }
  if (next.inputs.length !== live.inputs.length)
    throw new SwapMismatchError(
      `version ${next.version} of "${next.name}" takes other inputs than the live version`,
    );
  for (const a of live.outputs) {
    const b = next.outputs.find((s) => s.name === a.name);
    if (b === undefined || b.type !== a.type)
      throw new SwapMismatchError(
        `version ${next.version} of "${next.name}" lacks output "${a.name}" (${a.type}) that the live version gives`,
      );
  }
}
