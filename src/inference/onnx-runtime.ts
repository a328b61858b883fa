import type * as Ort from 'onnxruntime-node';
import { ModelLoadError } from './errors.js';

export type OnnxRuntime = typeof Ort;

let loading: Promise<OnnxRuntime> | undefined;

/**
 * ONNX Runtime, imported on the first model load rather than with `sluice`: a pipeline without an
 * ONNX model never loads the native addon. onnxruntime-node is an optional peer dependency (its
 * installer downloads GPU libraries on Linux x64 unless told not to), so its absence is a clear
 * error that says how to install it.
 */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  loading ??= import('onnxruntime-node').then(
    // A CommonJS package: the namespace carries its exports (cjs-module-lexer) and `default`.
    (m) => m as OnnxRuntime,
    (cause: unknown) => {
      loading = undefined;
      const missing = (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      throw new ModelLoadError(
        missing
          ? 'ONNX models run on the onnxruntime-node package, which is not installed: npm install onnxruntime-node ' +
              '(npm before 11.19 also runs its installer, which downloads CUDA libraries on Linux x64; ' +
              'ONNXRUNTIME_NODE_INSTALL=skip keeps it offline: the CPU runtime is in the package)'
          : `could not load onnxruntime-node: ${(cause as Error).message}`,
        { cause },
      );
    },
  );
  return loading;
}
