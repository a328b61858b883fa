// The infer stage's start-time check: the mapping (`inputName`/`inputType`/`width`,
// `outputName`/`outputType`) against what the model declares. A mismatch fails the run before
// the first record with what to change; found later, it would send every record to the dead
// letters (`input "text" expects type string, got float32`).
import { SluiceError } from './errors.js';
import type { ModelLike } from './interfaces.js';
import { wireType, type InferTensorKind } from './infer-tensors.js';

/** The mapping as the stage resolved it. */
export interface InferMapping {
  inputName: string;
  outputName: string;
  width: number;
  /** Undefined: not set, `float32` numbers (the original contract). */
  inputType: InferTensorKind | undefined;
  outputType: InferTensorKind | undefined;
}

const mismatch = (message: string) => new SluiceError('SLUICE_PIPELINE_MODEL_MISMATCH', `infer: ${message}`);

/**
 * Throws `SLUICE_PIPELINE_MODEL_MISMATCH` saying what to change when the model's metadata and the
 * mapping disagree; models that declare no types or no metadata pass.
 *
 * @example
 * checkMapping(model.metadata, { inputName: 'text', outputName: 'json', width: 1, inputType: 'json', outputType: 'json' });
 */
export function checkMapping(meta: ModelLike['metadata'], m: InferMapping): void {
  if (!meta) return;
  const input = meta.inputs.find((i) => i.name === m.inputName);
  if (!input)
    throw mismatch(
      `model has no input "${m.inputName}" (it has: ${meta.inputs.map((i) => i.name).join(', ')}); set inputName`,
    );
  const kind = m.inputType ?? 'float32';
  if (input.type !== undefined && input.type !== wireType(kind)) {
    const text = input.type === 'string';
    throw mismatch(
      m.inputType === undefined
        ? `model input "${m.inputName}" expects type ${input.type}, but .infer() feeds it float32 numbers (input() gives ${m.width} per record); ` +
            (text
              ? `set inputType: 'string' (input() returns the text) or 'json' (input() returns a value, sent as JSON text)`
              : `set inputType: '${input.type}'`)
        : `model input "${m.inputName}" expects type ${input.type}, but inputType is '${kind}'; set inputType: '${input.type}'` +
            (text ? ` or 'json'` : ''),
    );
  }
  if (input.dims.length === 1 && kind !== 'float32' && m.width !== 1)
    throw mismatch(
      `model input "${m.inputName}" takes one value per record (dims [${input.dims.join(',')}]), the pipeline gives ${m.width}; set width: 1`,
    );
  const last = input.dims[input.dims.length - 1];
  if (input.dims.length > 1 && typeof last === 'number' && last > 0 && last !== m.width)
    throw mismatch(
      `model input "${m.inputName}" expects ${last} features per row, the pipeline gives ${m.width}`,
    );
  const output = meta.outputs.find((o) => o.name === m.outputName);
  if (!output)
    throw mismatch(
      `model has no output "${m.outputName}" (it has: ${meta.outputs.map((o) => o.name).join(', ')}); set outputName`,
    );
  const out = m.outputType ?? 'float32';
  if (output.type === undefined) return;
  if (out === 'float32') {
    // The original contract: any numeric output, handed to output() as floats.
    if (output.type !== 'string' && output.type !== 'bool') return;
    const numeric = meta.outputs.filter((o) => o.type !== 'string' && o.type !== 'bool').map((o) => o.name);
    throw mismatch(
      `model output "${m.outputName}" is of type ${output.type}, but .infer() hands output() numbers; ` +
        (numeric.length > 0 ? `set outputName to one of: ${numeric.join(', ')}, or ` : '') +
        `set outputType: '${output.type}'${output.type === 'string' ? " (or 'json' to get parsed values)" : ''}`,
    );
  }
  if (output.type !== wireType(out))
    throw mismatch(
      `model output "${m.outputName}" is of type ${output.type}, but outputType is '${out}'; set outputType: '${output.type}'`,
    );
}
