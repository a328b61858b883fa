// Messages between OnnxWorkerModel (main thread) and its worker threads.
import {
  InferenceErrorCodes,
  ModelClosedError,
  ModelInputError,
  ModelRunError,
  TensorSizeError,
  type InferenceErrorCode,
} from '../errors.js';
import type { ModelMetadata } from '../model.js';
import type { OnnxModelOptions } from '../onnx-model.js';
import type { Tensor, TensorData, TensorType } from '../tensor.js';

/** A tensor on the wire: typed-array data is transferred, not copied. */
export interface WireTensor {
  name: string;
  type: TensorType;
  dims: number[];
  data: TensorData;
}

/** What a worker is started with. */
export interface WorkerInit {
  source: string | Uint8Array;
  options: OnnxModelOptions;
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  code?: string;
  input?: string;
  message: string;
}

export type ToWorker = { type: 'run'; id: number; inputs: WireTensor[] } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; metadata: ModelMetadata }
  | { type: 'load-error'; error: WireError }
  | { type: 'result'; id: number; outputs: WireTensor[] }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'closed' };

/**
 * Packs named tensors for postMessage, listing the buffers that can move without a copy: a
 * typed array that is the whole of a plain ArrayBuffer. Views into larger or shared buffers are
 * copied first, so transferring never detaches memory the sender still uses elsewhere.
 *
 * @example
 * const { wire, transfer } = toWire(inputs, true); port.postMessage({ type: 'run', id, inputs: wire }, transfer);
 */
export function toWire(
  tensors: Record<string, Tensor>,
  transferable: boolean,
): { wire: WireTensor[]; transfer: ArrayBuffer[] } {
  const wire: WireTensor[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    let data = t.data;
    if (!Array.isArray(data)) {
      const typed = data as Exclude<TensorData, string[]>;
      const whole =
        typed.buffer instanceof ArrayBuffer &&
        typed.byteOffset === 0 &&
        typed.byteLength === typed.buffer.byteLength;
      if (!whole || !transferable) data = typed.slice();
      transfer.push((data as Exclude<TensorData, string[]>).buffer as ArrayBuffer);
    }
    wire.push({ name, type: t.type, dims: [...t.dims], data });
  }
  return { wire, transfer };
}

/**
 * Named tensors from their wire form.
 *
 * @example
 * const outputs = fromWire(msg.outputs);
 */
export function fromWire(wire: readonly WireTensor[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const t of wire) out[t.name] = { type: t.type, data: t.data, dims: t.dims };
  return out;
}

/**
 * An error as plain data for postMessage.
 *
 * @example
 * port.postMessage({ type: 'error', id, error: errorToWire(err) });
 */
export function errorToWire(err: unknown): WireError {
  if (err instanceof Error) {
    const e = err as Error & { code?: string; input?: string };
    return { code: e.code, input: e.input, message: e.message };
  }
  return { message: String(err) };
}

/**
 * Rebuilds an inference error (same class and code) from its wire form.
 *
 * @example
 * reject(errorFromWire(msg.error));
 */
export function errorFromWire(e: WireError): Error {
  const c = InferenceErrorCodes;
  switch (e.code as InferenceErrorCode | undefined) {
    case c.inputMissing:
    case c.inputUnknown:
    case c.inputType:
    case c.inputDims:
      return new ModelInputError(e.code as typeof c.inputDims, e.input ?? '', e.message);
    case c.tensorSize:
      return new TensorSizeError(e.message);
    case c.modelClosed:
      return new ModelClosedError(e.message);
    default:
      return new ModelRunError(e.message);
  }
}
