// Flat storage for a tensor's elements, by element type: shared by the inference layer (joining
// requests' tensors, decoding binary responses, fallbacks) and the stream layer (packing
// `.infer()` inputs), which may not import each other (docs/architecture.md).

/**
 * Element types a tensor can hold (the names ONNX Runtime uses); the inference layer's
 * `TensorType`.
 *
 * @example
 * const t: TensorElementType = 'int64';
 */
export type TensorElementType = 'float32' | 'int64' | 'int32' | 'float64' | 'string' | 'bool';

/**
 * The flat, row-major storage of a tensor; `bool` uses a Uint8Array of 0/1. The inference
 * layer's `TensorData`.
 *
 * @example
 * const data: TensorStorage = new BigInt64Array([1n, 2n]);
 */
export type TensorStorage = Float32Array | Float64Array | Int32Array | BigInt64Array | string[] | Uint8Array;

/**
 * Allocates flat storage for `n` elements of a tensor type (strings start empty).
 *
 * @example
 * allocateTensorData('float32', 30); // Float32Array(30)
 */
export function allocateTensorData(type: TensorElementType, n: number): TensorStorage {
  switch (type) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'bool':
      return new Uint8Array(n);
    case 'string':
      return new Array<string>(n).fill('');
  }
}
