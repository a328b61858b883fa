import type onnxProto from 'onnx-proto';
import { onnx } from '../onnx-schema.js';

/**
 * ONNX element type numbers (TensorProto.DataType) used by the exporters: fixed by the ONNX
 * standard, written out so that reading them does not load the schema.
 *
 * @example
 * tensorValueInfo('ids', ElemType.int64, [BATCH_DIM]);
 */
export const ElemType = {
  float: 1,
  double: 11,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
} as const;

/**
 * The symbolic batch dim every exported model uses, so one model serves any batch size.
 *
 * @example
 * tensorValueInfo('features', ElemType.float, [BATCH_DIM, 15]); // float[N,15]
 */
export const BATCH_DIM = 'N';

/**
 * Opsets imported by every exported model: ai.onnx 17 and ai.onnx.ml 3 (both run on ONNX Runtime 1.30).
 *
 * @example
 * OPSETS.find((o) => o.domain === 'ai.onnx.ml')?.version; // 3
 */
export const OPSETS = [
  { domain: '', version: 17 },
  { domain: 'ai.onnx.ml', version: 3 },
] as const;

/**
 * A float32 constant (initializer) with the given dims.
 *
 * @example
 * const w = floatInitializer('W', new Float32Array([0.5, -1]), [2, 1]);
 */
export function floatInitializer(
  name: string,
  data: Float32Array | ArrayLike<number>,
  dims: readonly number[],
): onnxProto.onnx.ITensorProto {
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  // raw little-endian bytes are the compact encoding ONNX Runtime reads fastest; typed arrays are LE on every Node platform
  const raw = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return onnx().TensorProto.create({ name, dataType: ElemType.float, dims: [...dims], rawData: raw });
}

/**
 * A tensor value info (graph input or output); string dims are symbolic (dynamic), numbers fixed.
 *
 * @example
 * const input = tensorValueInfo('features', ElemType.float, [BATCH_DIM, 15]);
 */
export function tensorValueInfo(
  name: string,
  elemType: number,
  dims: readonly (number | string)[],
): onnxProto.onnx.IValueInfoProto {
  return onnx().ValueInfoProto.create({
    name,
    type: onnx().TypeProto.create({
      tensorType: onnx().TypeProto.Tensor.create({
        elemType,
        shape: onnx().TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'string'
              ? onnx().TensorShapeProto.Dimension.create({ dimParam: d })
              : onnx().TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

/**
 * Attribute values the builders support.
 *
 * @example
 * const attrs: Record<string, AttributeValue> = { alpha: 0.5, transB: { int: 1 }, classlabels_strings: ['no', 'yes'] };
 */
export type AttributeValue =
  number | string | number[] | string[] | { int: number } | { floats: number[] } | { ints: number[] };

/**
 * A graph node. Plain numbers become float attributes; use `{ int: n }` / `{ ints: [...] }` for
 * integer ones (ONNX is strict about the attribute type).
 *
 * @example
 * const add = node('Add', ['logit0', 'B'], ['logit']);
 * const gemm = node('Gemm', ['X', 'W', 'B'], ['Y'], { transB: { int: 1 } });
 */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Record<string, AttributeValue> = {},
  domain = '',
): onnxProto.onnx.INodeProto {
  return onnx().NodeProto.create({
    opType,
    domain,
    name: `${opType}_${outputs[0] ?? ''}`,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
  });
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx().AttributeProto.AttributeType;
  if (typeof value === 'number') return onnx().AttributeProto.create({ name, type: T.FLOAT, f: value });
  if (typeof value === 'string')
    return onnx().AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) {
    if (typeof value[0] === 'string') {
      return onnx().AttributeProto.create({
        name,
        type: T.STRINGS,
        strings: (value as string[]).map((v) => new TextEncoder().encode(v)),
      });
    }
    return onnx().AttributeProto.create({ name, type: T.FLOATS, floats: value as number[] });
  }
  if ('int' in value) return onnx().AttributeProto.create({ name, type: T.INT, i: value.int });
  if ('ints' in value) return onnx().AttributeProto.create({ name, type: T.INTS, ints: value.ints });
  return onnx().AttributeProto.create({ name, type: T.FLOATS, floats: value.floats });
}

/**
 * The parts of one graph.
 *
 * @example
 * const parts: GraphParts = { name: 'relu', nodes: [node('Relu', ['x'], ['y'])], inputs: [x], outputs: [y] };
 */
export interface GraphParts {
  name: string;
  nodes: onnxProto.onnx.INodeProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers?: onnxProto.onnx.ITensorProto[];
  docString?: string;
}

/**
 * Serializes a graph as an ONNX model (IR version 8, opsets {@link OPSETS}, producer `sluice`),
 * ready for `OnnxModel.load(bytes)` or to be written to a `.onnx` file.
 *
 * @example
 * const bytes = buildModel({ name: 'lr', nodes, inputs: [input], outputs: [output], initializers });
 */
export function buildModel(parts: GraphParts, metadata: Record<string, string> = {}): Uint8Array {
  const model = onnx().ModelProto.create({
    irVersion: 8,
    producerName: 'sluice',
    opsetImport: OPSETS.map((o) =>
      onnx().OperatorSetIdProto.create({ domain: o.domain, version: o.version }),
    ),
    docString: parts.docString ?? '',
    metadataProps: Object.entries(metadata).map(([key, value]) =>
      onnx().StringStringEntryProto.create({ key, value }),
    ),
    graph: onnx().GraphProto.create({
      name: parts.name,
      node: parts.nodes,
      input: parts.inputs,
      output: parts.outputs,
      initializer: parts.initializers ?? [],
    }),
  });
  return onnx().ModelProto.encode(model).finish();
}
