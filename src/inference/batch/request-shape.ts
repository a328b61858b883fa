import { InferenceErrorCodes, ModelInputError, TensorSizeError } from '../errors.js';
import type { TensorSpec } from '../model.js';
import type { Tensor } from '../tensor.js';
import { validateInputs } from '../validate.js';

/**
 * Checks each request against the model's inputs cheaply: the first request gets the full
 * `validateInputs` check and fixes the dims after the first (requests batched together must
 * share them, to be concatenated along dim 0); later ones are compared with it.
 *
 * @example
 * const shape = new RequestShape(model.metadata.inputs); const rows = shape.admit(inputs);
 */
export class RequestShape {
  readonly #specs: readonly TensorSpec[];
  readonly #trailing: (number[] | undefined)[];

  constructor(specs: readonly TensorSpec[]) {
    this.#specs = specs;
    this.#trailing = specs.map(() => undefined);
  }

  /** Returns the request's row count (0 for a model without declared inputs); throws on a mismatch. */
  admit(inputs: Record<string, Tensor>): number {
    const specs = this.#specs;
    let rows = -1;
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const t = inputs[spec.name];
      const sig = this.#trailing[i];
      if (t === undefined || t.type !== spec.type || sig === undefined || t.dims.length !== sig.length + 1) {
        validateInputs(specs, inputs); // names the mismatch, or passes for the first request
        if (sig !== undefined) throw shapeError(spec.name, t!.dims, sig);
        this.#trailing[i] = t!.dims.slice(1);
        return this.admit(inputs);
      }
      const n = t.dims[0]!;
      let rowSize = 1;
      for (let j = 0; j < sig.length; j++) {
        if (t.dims[j + 1] !== sig[j]) throw shapeError(spec.name, t.dims, sig);
        rowSize *= sig[j]!;
      }
      if (!Number.isInteger(n) || n < 0 || t.data.length !== n * rowSize)
        throw new TensorSizeError(
          `input "${spec.name}" has ${t.data.length} elements but dims [${t.dims.join(',')}]: pass row-major data of exactly that length`,
        );
      if (rows < 0) rows = n;
      else if (n !== rows)
        throw new ModelInputError(
          InferenceErrorCodes.inputDims,
          spec.name,
          `input "${spec.name}" has ${n} rows but input "${specs[0]!.name}" has ${rows}: all inputs of a request share dim 0`,
        );
    }
    let count = 0;
    for (const name in inputs) if (name !== '') count++;
    if (count !== specs.length) validateInputs(specs, inputs);
    return Math.max(rows, 0);
  }
}

function shapeError(name: string, dims: readonly number[], sig: readonly number[]): ModelInputError {
  return new ModelInputError(
    InferenceErrorCodes.inputDims,
    name,
    `input "${name}" has dims [${dims.join(',')}], but requests batched together must share every dim after the first ` +
      `and earlier ones had [N,${sig.join(',')}]: pad to one shape, or use one batcher per shape`,
  );
}
