import { InferenceErrorCodes, ModelInputError } from './errors.js';
import type { InputPlan, TensorSpec } from './model.js';
import { assertTensorSize, type Tensor } from './tensor.js';

/**
 * Whether a declared dim accepts any size (`-1` or a symbolic name such as `'N'`).
 *
 * @example
 * isDynamicDim('N'); // true
 */
export function isDynamicDim(dim: number | string): boolean {
  return typeof dim === 'string' || dim < 0;
}

/**
 * Formats declared dims the way error messages show them: `[N,15]`, `-1` as `?`.
 *
 * @example
 * formatDims(['N', 15]); // '[N,15]'
 */
export function formatDims(dims: readonly (number | string)[]): string {
  return `[${dims.map((d) => (typeof d === 'number' && d < 0 ? '?' : String(d))).join(',')}]`;
}

/**
 * Checks one batch of inputs against the model's input specs: every declared input present,
 * no unknown names, types equal, ranks equal, fixed dims equal, symbolic dims (e.g. `N`) of
 * the same name equal across inputs, data length equal to the product of the dims.
 * Throws {@link ModelInputError} naming the first mismatch.
 *
 * @example
 * validateInputs(model.metadata.inputs, { features: float32Tensor(rows, [4, 15]) });
 */
export function validateInputs(specs: readonly TensorSpec[], inputs: Record<string, Tensor>): void {
  let symbols: Map<string, number> | undefined;
  for (const spec of specs) {
    const tensor = inputs[spec.name];
    if (tensor === undefined) {
      throw new ModelInputError(
        InferenceErrorCodes.inputMissing,
        spec.name,
        `input "${spec.name}" is missing: the model needs ${describeSpecs(specs)}, got ${describeNames(inputs)}`,
      );
    }
    if (tensor.type !== spec.type) {
      throw new ModelInputError(
        InferenceErrorCodes.inputType,
        spec.name,
        `input "${spec.name}" expects type ${spec.type}, got ${tensor.type}`,
      );
    }
    const dims = tensor.dims;
    let ok = spec.anyShape === true || dims.length === spec.dims.length;
    for (let i = 0; ok && i < spec.dims.length; i++) {
      const want = spec.dims[i]!;
      if (typeof want === 'string') {
        symbols ??= new Map();
        const seen = symbols.get(want);
        if (seen === undefined) symbols.set(want, dims[i]!);
        else if (seen !== dims[i]) ok = false;
      } else if (want >= 0 && want !== dims[i]) {
        ok = false;
      }
    }
    if (!ok) {
      const symbolNote = dims.length === spec.dims.length ? symbolConflict(spec, dims, symbols) : '';
      throw new ModelInputError(
        InferenceErrorCodes.inputDims,
        spec.name,
        `input "${spec.name}" expects dims ${formatDims(spec.dims)}, got [${dims.join(',')}]${symbolNote}`,
      );
    }
    assertTensorSize(tensor, `input "${spec.name}"`);
  }
  if (Object.keys(inputs).length !== specs.length) {
    for (const name of Object.keys(inputs)) {
      if (!specs.some((s) => s.name === name)) {
        throw new ModelInputError(
          InferenceErrorCodes.inputUnknown,
          name,
          `input "${name}" is not an input of this model: it takes ${describeSpecs(specs)}`,
        );
      }
    }
  }
}

/**
 * Checks, once at pipeline start, that what a pipeline plans to feed fits the model: same
 * input names, compatible types, same rank, and every dim the model fixes fixed to the same
 * size by the plan (a dynamic plan dim against a fixed model dim is an error: some batches
 * would fail). Throws {@link ModelInputError} naming the first mismatch.
 *
 * @example
 * checkInputPlan(model.metadata.inputs, [{ name: 'features', dims: [-1, 15] }]);
 */
export function checkInputPlan(specs: readonly TensorSpec[], plan: readonly InputPlan[]): void {
  for (const item of plan) {
    const spec = specs.find((s) => s.name === item.name);
    if (spec === undefined) {
      throw new ModelInputError(
        InferenceErrorCodes.inputUnknown,
        item.name,
        `input "${item.name}" is not an input of this model: it takes ${describeSpecs(specs)}`,
      );
    }
    if (item.type !== undefined && item.type !== spec.type) {
      throw new ModelInputError(
        InferenceErrorCodes.inputType,
        item.name,
        `input "${item.name}" expects type ${spec.type}, the pipeline plans ${item.type}`,
      );
    }
    if (spec.anyShape === true) continue;
    if (item.dims.length !== spec.dims.length) {
      throw new ModelInputError(
        InferenceErrorCodes.inputDims,
        item.name,
        `input "${item.name}" expects dims ${formatDims(spec.dims)}, the pipeline plans ${formatDims(item.dims)}`,
      );
    }
    for (let i = 0; i < spec.dims.length; i++) {
      const want = spec.dims[i]!;
      const have = item.dims[i]!;
      if (isDynamicDim(want) || have === want) continue;
      const why = isDynamicDim(have)
        ? ` (dim ${i} varies in the pipeline but the model fixes it at ${want}: feed exactly ${want} or export the model with a dynamic dim)`
        : '';
      throw new ModelInputError(
        InferenceErrorCodes.inputDims,
        item.name,
        `input "${item.name}" expects dims ${formatDims(spec.dims)}, the pipeline plans ${formatDims(item.dims)}${why}`,
      );
    }
  }
  for (const spec of specs) {
    if (!plan.some((p) => p.name === spec.name)) {
      throw new ModelInputError(
        InferenceErrorCodes.inputMissing,
        spec.name,
        `input "${spec.name}" is missing from the pipeline's plan: the model needs ${describeSpecs(specs)}`,
      );
    }
  }
}

function symbolConflict(
  spec: TensorSpec,
  dims: readonly number[],
  symbols: Map<string, number> | undefined,
): string {
  for (let i = 0; i < dims.length; i++) {
    const want = spec.dims[i]!;
    if (typeof want === 'string' && symbols?.get(want) !== dims[i]) {
      return ` (dim ${want} is ${symbols?.get(want)} in another input: all inputs must share it)`;
    }
  }
  return '';
}

function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `"${s.name}" ${s.type}${formatDims(s.dims)}`).join(', ');
}

function describeNames(inputs: Record<string, Tensor>): string {
  const names = Object.keys(inputs);
  return names.length === 0 ? 'no inputs' : names.map((n) => `"${n}"`).join(', ');
}
