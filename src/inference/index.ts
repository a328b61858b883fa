// Public surface of the inference layer; src/index.ts re-exports from here.
export {
  InferenceError,
  InferenceErrorCodes,
  InvalidArgumentError,
  ModelClosedError,
  ModelInputError,
  ModelLoadError,
  ModelRunError,
  TensorSizeError,
  UnsupportedTensorTypeError,
  type InferenceErrorCode,
} from './errors.js';
export { averagePrecision, precisionAtK, rocAuc } from './evaluate.js';
export type { InputPlan, Model, ModelMetadata, TensorSpec } from './model.js';
export { OnnxModel, type OnnxModelOptions } from './onnx-model.js';
export {
  BATCH_DIM,
  buildModel,
  ElemType,
  floatInitializer,
  node,
  OPSETS,
  tensorValueInfo,
} from './onnx-export/graph-builder.js';
export type { AttributeValue, GraphParts } from './onnx-export/graph-builder.js';
export {
  exportLogisticRegression,
  type LogisticRegressionExport,
} from './onnx-export/logistic-regression.js';
export { assertTensorSize, elementCount, float32Tensor, int64Tensor, TENSOR_TYPES } from './tensor.js';
export type { Tensor, TensorData, TensorType } from './tensor.js';
export {
  trainLogisticRegression,
  type LogisticRegressionFit,
  type LogisticRegressionOptions,
} from './train/logistic-regression.js';
export { checkInputPlan, formatDims, isDynamicDim, validateInputs } from './validate.js';
