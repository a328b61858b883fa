// The binary tensor data extension of the Open Inference Protocol (Triton's
// docs/protocol/extension_binary_data.md; KServe and MLServer speak it too): the body is the JSON
// request or response, then the raw tensor bytes, in the order of the tensors that declare
// `"parameters": {"binary_data_size": N}`; the `Inference-Header-Content-Length` header gives
// the JSON's length. Data is little-endian, row-major, unpadded; BOOL is one byte 0/1; BYTES is
// each element as a 4-byte little-endian length then its bytes. Large tensors skip JSON number
// formatting and parsing entirely, which is most of the cost of a KServe call over JSON.
import { allocateTensorData } from '../../core/tensor-data.js';
import { ProtocolError } from '../serving-errors.js';
import { elementCount, type Tensor, type TensorType } from '../tensor.js';

/** The header that gives the JSON part's length in bytes. */
export const HEADER_LENGTH = 'inference-header-content-length';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A tensor's data as protocol bytes (little-endian; BYTES length-prefixed).
 *
 * @example
 * const bytes = tensorBytes(float32Tensor([1, 2], [1, 2])); // 8 bytes
 */
export function tensorBytes(t: Tensor): Uint8Array {
  if (t.type === 'string') {
    const parts = (t.data as string[]).map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, at);
      p.copy(out, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  const data = t.data as Exclude<Tensor['data'], string[]>;
  if (LITTLE_ENDIAN_HOST || t.type === 'bool')
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new DataView(new ArrayBuffer(data.byteLength));
  for (let i = 0; i < data.length; i++) write(out, t.type, i, data[i]!);
  return new Uint8Array(out.buffer);
}

/** Bytes one element takes, per wire datatype (BYTES: variable). */
const WIDTH: Record<string, number> = {
  BOOL: 1,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  FP16: 2,
  INT32: 4,
  UINT32: 4,
  FP32: 4,
  INT64: 8,
  UINT64: 8,
  FP64: 8,
};

/**
 * A tensor from protocol bytes: native widths kept, narrower types widened as the JSON path does
 * (`FP16` → float32, `INT8`/`INT16`/`UINT8`/`UINT16` → int32, `UINT32`/`UINT64` → int64).
 *
 * @example
 * const t = tensorFromBytes('FP32', [2, 1], bytes, 'score', 'float32');
 */
export function tensorFromBytes(
  datatype: string,
  dims: number[],
  bytes: Uint8Array,
  name: string,
  type: TensorType,
): Tensor {
  const n = elementCount(dims);
  if (datatype === 'BYTES') {
    const out: string[] = [];
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at < buf.length) {
      if (at + 4 > buf.length) throw bad(name, 'a BYTES element length runs past the data');
      const len = buf.readUInt32LE(at);
      if (at + 4 + len > buf.length) throw bad(name, `a BYTES element of ${len} bytes runs past the data`);
      out.push(buf.toString('utf8', at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (out.length !== n) throw bad(name, `${out.length} BYTES elements for shape [${dims.join(',')}]`);
    return { type, data: out, dims };
  }
  const width = WIDTH[datatype];
  if (width === undefined) throw bad(name, `datatype ${datatype} cannot be read as binary`);
  if (bytes.byteLength !== n * width)
    throw bad(
      name,
      `${bytes.byteLength} bytes for shape [${dims.join(',')}] of ${datatype} (need ${n * width})`,
    );
  // Copied into a fresh, aligned buffer: the body's offset need not be a multiple of the width.
  const own = new Uint8Array(bytes);
  if (LITTLE_ENDIAN_HOST) {
    if (datatype === 'FP32') return { type, data: new Float32Array(own.buffer), dims };
    if (datatype === 'FP64') return { type, data: new Float64Array(own.buffer), dims };
    if (datatype === 'INT32') return { type, data: new Int32Array(own.buffer), dims };
    if (datatype === 'INT64') return { type, data: new BigInt64Array(own.buffer), dims };
    if (datatype === 'BOOL') return { type, data: own, dims };
  }
  const view = new DataView(own.buffer);
  const data = allocateTensorData(type, n);
  for (let i = 0; i < n; i++)
    (data as unknown as Record<number, number | bigint>)[i] = read(view, datatype, i);
  return { type, data, dims };
}

/**
 * Splits a body at the JSON header's length; the JSON part parsed, the rest the binary section.
 *
 * @example
 * const { json, binary } = splitBody(bytes, Number(headers.get('inference-header-content-length')));
 */
export function splitBody(body: Uint8Array, headerLength: number): { json: unknown; binary: Uint8Array } {
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.byteLength)
    throw new ProtocolError(
      `Inference-Header-Content-Length is ${headerLength} but the body has ${body.byteLength} bytes`,
    );
  const text = Buffer.from(body.buffer, body.byteOffset, headerLength).toString('utf8');
  try {
    return { json: JSON.parse(text) as unknown, binary: body.subarray(headerLength) };
  } catch (cause) {
    throw new ProtocolError(`the JSON header of a binary answer is not JSON: ${text.slice(0, 120)}`, {
      cause,
    });
  }
}

function bad(name: string, why: string): ProtocolError {
  return new ProtocolError(`binary output "${name}": ${why}`);
}

function read(v: DataView, datatype: string, i: number): number | bigint {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return v.getUint8(i);
    case 'INT8':
      return v.getInt8(i);
    case 'INT16':
      return v.getInt16(i * 2, true);
    case 'UINT16':
      return v.getUint16(i * 2, true);
    case 'FP16':
      return half(v.getUint16(i * 2, true));
    case 'INT32':
      return v.getInt32(i * 4, true);
    case 'UINT32':
      return BigInt(v.getUint32(i * 4, true));
    case 'FP32':
      return v.getFloat32(i * 4, true);
    case 'INT64':
      return v.getBigInt64(i * 8, true);
    case 'UINT64':
      return BigInt.asIntN(64, v.getBigUint64(i * 8, true));
    default:
      return v.getFloat64(i * 8, true);
  }
}

function write(v: DataView, type: TensorType, i: number, x: number | bigint): void {
  if (type === 'float32') v.setFloat32(i * 4, x as number, true);
  else if (type === 'float64') v.setFloat64(i * 8, x as number, true);
  else if (type === 'int32') v.setInt32(i * 4, x as number, true);
  else v.setBigInt64(i * 8, x as bigint, true);
}

/** IEEE 754 half-precision bits to a number. */
function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : Number.NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
