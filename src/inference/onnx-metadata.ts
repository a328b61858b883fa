// Turns ONNX Runtime's input/output metadata into Sluice TensorSpecs.
import { readFile } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { UnsupportedTensorTypeError } from './errors.js';
import type { TensorSpec } from './model.js';
import { TENSOR_TYPES, type Tensor, type TensorType } from './tensor.js';
import { onnx } from './onnx-schema.js';

/**
 * Converts ONNX Runtime's value metadata to {@link TensorSpec}s. ONNX Runtime reports an unnamed
 * dynamic dim as `''` (turned into `-1`) and both "scalar" and "no shape declared" as `[]`; only
 * in that case are the model bytes parsed to tell the two apart.
 *
 * @example
 * const inputs = await specsFromSession(session.inputMetadata, 'inputs', () => bytes);
 */
export async function specsFromSession(
  values: readonly InferenceSession.ValueMetadata[],
  kind: 'inputs' | 'outputs',
  modelBytes: () => Promise<Uint8Array>,
): Promise<TensorSpec[]> {
  const specs = values.map((v): TensorSpec => {
    if (!v.isTensor) {
      throw new UnsupportedTensorTypeError(
        `model ${kind === 'inputs' ? 'input' : 'output'} "${v.name}" is not a tensor (e.g. a ZipMap sequence of maps): ` +
          're-export the model with tensor outputs only (skl2onnx: options={"zipmap": False})',
      );
    }
    if (!(TENSOR_TYPES as readonly string[]).includes(v.type)) {
      throw new UnsupportedTensorTypeError(
        `model ${kind === 'inputs' ? 'input' : 'output'} "${v.name}" has type ${v.type}; supported types are ` +
          `${TENSOR_TYPES.join(', ')}: add a Cast node or re-export with one of those`,
      );
    }
    return { name: v.name, type: v.type as TensorType, dims: v.shape.map((d) => (d === '' ? -1 : d)) };
  });
  if (specs.some((s) => s.dims.length === 0)) {
    const declared = declaredShapes(await modelBytes(), kind);
    for (const s of specs) if (s.dims.length === 0 && declared.get(s.name) === false) s.anyShape = true;
  }
  return specs;
}

/**
 * Reads the model file (or takes the bytes) only when the shape fallback needs it.
 *
 * @example
 * const bytes = await lazyBytes('model.onnx')();
 */
export function lazyBytes(source: string | Uint8Array): () => Promise<Uint8Array> {
  return async () => (typeof source === 'string' ? new Uint8Array(await readFile(source)) : source);
}

function declaredShapes(bytes: Uint8Array, kind: 'inputs' | 'outputs'): Map<string, boolean> {
  const graph = onnx().ModelProto.decode(bytes).graph;
  const values = (kind === 'inputs' ? graph?.input : graph?.output) ?? [];
  return new Map(values.map((v) => [v.name ?? '', v.type?.tensorType?.shape != null]));
}

/**
 * A tensor of zeros fitting a spec, the first dynamic dim set to `rows` and the others to 1:
 * the warm-up input.
 *
 * @example
 * zeroTensor({ name: 'features', type: 'float32', dims: ['N', 15] }); // dims [1, 15]
 */
export function zeroTensor(spec: TensorSpec, rows = 1): Tensor {
  const dims = spec.dims.map((d, i) => (typeof d === 'string' || d < 0 ? (i === 0 ? rows : 1) : d));
  const n = dims.reduce((a, b) => a * b, 1);
  switch (spec.type) {
    case 'float32':
      return { type: spec.type, data: new Float32Array(n), dims };
    case 'float64':
      return { type: spec.type, data: new Float64Array(n), dims };
    case 'int32':
      return { type: spec.type, data: new Int32Array(n), dims };
    case 'int64':
      return { type: spec.type, data: new BigInt64Array(n), dims };
    case 'bool':
      return { type: spec.type, data: new Uint8Array(n), dims };
    case 'string':
      return { type: spec.type, data: new Array<string>(n).fill(''), dims };
  }
}
