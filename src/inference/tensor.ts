import type { TensorElementType, TensorStorage } from '../core/tensor-data.js';
import { TensorSizeError } from './errors.js';

/**
 * Element types a {@link Tensor} can hold (the names ONNX Runtime uses).
 *
 * @example
 * const t: TensorType = 'float32';
 */
export type TensorType = TensorElementType;

/**
 * The flat, row-major storage of a tensor; `bool` uses a Uint8Array of 0/1.
 *
 * @example
 * const data: TensorData = new BigInt64Array([1n, 2n]);
 */
export type TensorData = TensorStorage;

/**
 * A dense tensor: flat row-major data plus its dims (batch first).
 *
 * @example
 * const t: Tensor = { type: 'float32', data: new Float32Array(6), dims: [2, 3] };
 */
export interface Tensor {
  type: TensorType;
  data: TensorData;
  dims: number[];
}

/**
 * All supported tensor types, for validation.
 *
 * @example
 * TENSOR_TYPES.includes('float16' as TensorType); // false
 */
export const TENSOR_TYPES: readonly TensorType[] = ['float32', 'int64', 'int32', 'float64', 'string', 'bool'];

/**
 * Number of elements for the given dims (1 for a scalar, `[]`).
 *
 * @example
 * elementCount([4, 15]); // 60
 */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Builds a float32 tensor, checking that `data` has exactly as many elements as `dims` says.
 *
 * @example
 * const batch = float32Tensor([0.1, 0.2, 0.3, 0.4], [2, 2]);
 */
export function float32Tensor(data: Float32Array | ArrayLike<number>, dims: readonly number[]): Tensor {
  const array = data instanceof Float32Array ? data : Float32Array.from(data);
  return checked({ type: 'float32', data: array, dims: [...dims] });
}

/**
 * Builds an int64 tensor from bigints or safe integers.
 *
 * @example
 * const ids = int64Tensor([1n, 2n, 3n], [3, 1]);
 */
export function int64Tensor(
  data: BigInt64Array | ArrayLike<number | bigint>,
  dims: readonly number[],
): Tensor {
  const array = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  return checked({ type: 'int64', data: array, dims: [...dims] });
}

/**
 * Throws {@link TensorSizeError} unless the data length equals the product of the dims.
 *
 * @example
 * assertTensorSize({ type: 'float32', data: new Float32Array(6), dims: [2, 3] }, 'features');
 */
export function assertTensorSize(tensor: Tensor, label = 'tensor'): void {
  for (const d of tensor.dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorSizeError(
        `${label} has invalid dims [${tensor.dims.join(',')}]: each dim must be an integer >= 0`,
      );
    }
  }
  const expected = elementCount(tensor.dims);
  if (tensor.data.length !== expected) {
    throw new TensorSizeError(
      `${label} has ${tensor.data.length} elements but dims [${tensor.dims.join(',')}] need ${expected}: ` +
        'pass row-major data of exactly that length',
    );
  }
}

function checked(tensor: Tensor): Tensor {
  assertTensorSize(tensor);
  return tensor;
}
