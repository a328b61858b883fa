// Open Inference Protocol (KServe v2) JSON tensors <-> Sluice tensors.
//
//   tensor   = { "name": str, "shape": [int...], "datatype": str, "data": [flat row-major values] }
//   request  = { "id"?: str, "inputs": [tensor...], "outputs"?: [{ "name": str }...] }
//   response = { "model_name": str, "model_version"?: str, "id"?: str, "outputs": [tensor...] }
//   metadata = { "name": str, "versions"?: [str], "platform": str,
//                "inputs": [{ "name", "datatype", "shape" }], "outputs": [...] }   (-1 = dynamic dim)
import { UnsupportedTensorTypeError } from '../errors.js';
import { ProtocolError } from '../serving-errors.js';
import type { ModelMetadata, TensorSpec } from '../model.js';
import { elementCount, type Tensor, type TensorType } from '../tensor.js';
import { tensorBytes, tensorFromBytes } from './kserve-binary.js';

const TO_WIRE: Record<TensorType, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
  string: 'BYTES',
};

// Narrower wire types are widened to a type Sluice tensors hold.
const FROM_WIRE: Record<string, TensorType> = {
  FP32: 'float32',
  FP16: 'float32',
  FP64: 'float64',
  INT8: 'int32',
  INT16: 'int32',
  INT32: 'int32',
  UINT8: 'int32',
  UINT16: 'int32',
  UINT32: 'int64',
  INT64: 'int64',
  UINT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
};

/**
 * The Sluice tensor type of a KServe datatype (`FP32` → `float32`, narrower ints widened).
 *
 * @example
 * tensorTypeOf('FP32', 'score'); // 'float32'
 */
export function tensorTypeOf(datatype: string, name: string): TensorType {
  const t = FROM_WIRE[datatype];
  if (t === undefined)
    throw new UnsupportedTensorTypeError(
      `tensor "${name}" has KServe datatype ${datatype}; supported: ${Object.keys(FROM_WIRE).join(', ')}`,
    );
  return t;
}

/**
 * Model metadata from a KServe v2 metadata answer.
 *
 * @example
 * const meta = metadataFromKServe(body, '1');
 */
export function metadataFromKServe(body: unknown, version: string | undefined): ModelMetadata {
  const b = body as { name?: unknown; versions?: unknown; inputs?: unknown; outputs?: unknown };
  if (typeof b?.name !== 'string' || !Array.isArray(b.inputs) || !Array.isArray(b.outputs))
    throw new ProtocolError(
      `KServe model metadata must have "name", "inputs" and "outputs"; got ${JSON.stringify(body)?.slice(0, 200)}`,
    );
  const spec = (t: unknown): TensorSpec => {
    const x = t as { name?: unknown; datatype?: unknown; shape?: unknown };
    if (typeof x.name !== 'string' || typeof x.datatype !== 'string' || !Array.isArray(x.shape))
      throw new ProtocolError(
        `KServe tensor metadata needs name, datatype and shape; got ${JSON.stringify(t)}`,
      );
    return { name: x.name, type: tensorTypeOf(x.datatype, x.name), dims: x.shape.map(Number) };
  };
  const versions = Array.isArray(b.versions) ? (b.versions as unknown[]).map(String) : [];
  return {
    name: b.name,
    version: version ?? versions[versions.length - 1] ?? '1',
    inputs: b.inputs.map(spec),
    outputs: b.outputs.map(spec),
  };
}

/**
 * How a request is encoded: `binaryThresholdBytes`: an input at least this large goes as binary
 * data (undefined: none does); `binaryOutputs`: ask for every output as binary data;
 * `parameters`: request parameters (Triton's `priority`, `timeout` in µs).
 */
export interface EncodeOptions {
  binaryThresholdBytes?: number;
  binaryOutputs?: boolean;
  parameters?: Record<string, number | string | boolean>;
}

/**
 * A KServe v2 inference request body. Without binary data: the JSON text, data arrays written
 * directly (int64 too, which `JSON.stringify` cannot write from bigints). With binary inputs:
 * the JSON header (those inputs carry `binary_data_size` instead of `data`) then their bytes,
 * and `headerLength` for the `Inference-Header-Content-Length` header.
 *
 * @example
 * const { body, headerLength } = encodeInferRequest({ features }, ['score'], 'req-1', { binaryThresholdBytes: 65536 });
 */
export function encodeInferRequest(
  inputs: Record<string, Tensor>,
  outputs: readonly string[],
  id: string,
  o: EncodeOptions = {},
): { body: string | Uint8Array; headerLength: number | undefined } {
  const parts: string[] = [];
  const binary: Uint8Array[] = [];
  for (const [name, t] of Object.entries(inputs)) {
    const head = `{"name":${JSON.stringify(name)},"shape":${JSON.stringify(t.dims)},"datatype":"${TO_WIRE[t.type]}"`;
    const bytes =
      o.binaryThresholdBytes === undefined
        ? undefined
        : rawSize(t) >= o.binaryThresholdBytes
          ? tensorBytes(t)
          : undefined;
    if (bytes !== undefined) {
      binary.push(bytes);
      parts.push(`${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`);
      continue;
    }
    const data =
      t.type === 'string'
        ? JSON.stringify(t.data)
        : t.type === 'bool'
          ? `[${Array.from(t.data as Uint8Array, (v) => (v !== 0 ? 'true' : 'false')).join(',')}]`
          : `[${Array.prototype.join.call(t.data, ',')}]`;
    parts.push(`${head},"data":${data}}`);
  }
  const wanted = outputs.map((n) => `{"name":${JSON.stringify(n)}}`).join(',');
  const params = { ...o.parameters, ...(o.binaryOutputs === true ? { binary_data_output: true } : {}) };
  const paramText = Object.keys(params).length > 0 ? `,"parameters":${JSON.stringify(params)}` : '';
  const json = `{"id":${JSON.stringify(id)},"inputs":[${parts.join(',')}],"outputs":[${wanted}]${paramText}}`;
  if (binary.length === 0) return { body: json, headerLength: undefined };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...binary]), headerLength: header.byteLength };
}

/** Bytes a tensor's data takes raw (strings: their UTF-16 length, a cheap bound). */
function rawSize(t: Tensor): number {
  if (t.type === 'string') return (t.data as string[]).reduce((n, s) => n + 4 + s.length, 0);
  return (t.data as Exclude<Tensor['data'], string[]>).byteLength;
}

/**
 * The output tensors of a KServe v2 inference answer (nested data is flattened).
 *
 * @example
 * const out = decodeInferResponse(body); out.score.data; // Float32Array
 */
export function decodeInferResponse(body: unknown, binary?: Uint8Array): Record<string, Tensor> {
  const outputs = (body as { outputs?: unknown })?.outputs;
  if (!Array.isArray(outputs))
    throw new ProtocolError(
      `KServe inference answer has no "outputs" array: ${JSON.stringify(body)?.slice(0, 200)}`,
    );
  const result: Record<string, Tensor> = {};
  let at = 0; // binary outputs' bytes follow the JSON in the order of the outputs
  for (const o of outputs as {
    name?: unknown;
    shape?: unknown;
    datatype?: unknown;
    data?: unknown;
    parameters?: { binary_data_size?: unknown };
  }[]) {
    const size = o.parameters?.binary_data_size;
    if (
      typeof size === 'number' &&
      typeof o.name === 'string' &&
      typeof o.datatype === 'string' &&
      Array.isArray(o.shape)
    ) {
      if (binary === undefined || at + size > binary.byteLength)
        throw new ProtocolError(
          `KServe output "${o.name}" declares ${size} bytes of binary data, but the answer carries ${binary === undefined ? 'none' : binary.byteLength - at} more`,
        );
      const dims = o.shape.map(Number);
      result[o.name] = tensorFromBytes(
        o.datatype,
        dims,
        binary.subarray(at, at + size),
        o.name,
        tensorTypeOf(o.datatype, o.name),
      );
      at += size;
      continue;
    }
    if (
      typeof o.name !== 'string' ||
      typeof o.datatype !== 'string' ||
      !Array.isArray(o.shape) ||
      !Array.isArray(o.data)
    )
      throw new ProtocolError(
        `KServe output needs name, shape, datatype and data: ${JSON.stringify(o).slice(0, 200)}`,
      );
    const dims = o.shape.map(Number);
    const flat = (o.data as unknown[]).flat(Infinity);
    if (flat.length !== elementCount(dims))
      throw new ProtocolError(
        `KServe output "${o.name}" has ${flat.length} values for shape [${dims.join(',')}]`,
      );
    result[o.name] = { type: tensorTypeOf(o.datatype, o.name), data: toData(o.datatype, flat), dims };
  }
  return result;
}

function toData(datatype: string, flat: unknown[]): Tensor['data'] {
  switch (FROM_WIRE[datatype]) {
    case 'float32':
      return Float32Array.from(flat as number[]);
    case 'float64':
      return Float64Array.from(flat as number[]);
    case 'int32':
      return Int32Array.from(flat as number[]);
    case 'int64':
      return BigInt64Array.from(flat, (v) => BigInt(v as number));
    case 'bool':
      return Uint8Array.from(flat, (v) => (v === true || v === 1 ? 1 : 0));
    default:
      return flat.map(String);
  }
}
