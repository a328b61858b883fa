/**
 * Solves `A x = b` for a symmetric positive-definite `A` (row-major d×d, only the lower
 * triangle read) by Cholesky factorization. Returns undefined when `A` is not positive definite.
 *
 * @example
 * choleskySolve(new Float64Array([4, 2, 2, 3]), 2, new Float64Array([2, 1])); // [0.5, 0]
 */
export function choleskySolve(A: Float64Array, d: number, b: Float64Array): Float64Array | undefined {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * d + j]!;
      for (let k = 0; k < j; k++) sum -= L[i * d + k]! * L[j * d + k]!;
      if (i === j) {
        if (!(sum > 0)) return undefined;
        L[i * d + i] = Math.sqrt(sum);
      } else {
        L[i * d + j] = sum / L[j * d + j]!;
      }
    }
  }
  const x = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= L[i * d + k]! * x[k]!;
    x[i] = sum / L[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let sum = x[i]!;
    for (let k = i + 1; k < d; k++) sum -= L[k * d + i]! * x[k]!;
    x[i] = sum / L[i * d + i]!;
  }
  return x;
}

/**
 * Numerically stable logistic function.
 *
 * @example
 * sigmoid(0); // 0.5
 */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Numerically stable `log(1 + e^z)`.
 *
 * @example
 * softplus(1000); // 1000
 */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}
