import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';

const require = createRequire(import.meta.url);
let schema: typeof onnxProto.onnx | undefined;

/**
 * The ONNX protobuf schema (onnx-proto: CommonJS, one `onnx` namespace, 22 MB of generated code),
 * loaded on the first export or model read rather than with `sluice`, where it was the largest
 * part of the import time. Synchronous (require), so the exporters stay synchronous.
 */
export function onnx(): typeof onnxProto.onnx {
  return (schema ??= (require('onnx-proto') as typeof onnxProto).onnx);
}
