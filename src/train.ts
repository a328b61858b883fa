/**
 * `sluice/train`: training and ONNX export in plain TypeScript (logistic regression,
 * gradient-boosted trees, a small MLP), the evaluation metrics, and the ONNX graph builder.
 * Nothing here loads a native addon.
 *
 * @example
 * import { trainLogisticRegression, exportLogisticRegression } from 'sluice/train';
 * const fit = trainLogisticRegression(rows, labels, 15); // row-major features, 0/1 labels, width
 * writeFileSync('model.onnx', exportLogisticRegression({ weights: fit.weights, bias: fit.bias }));
 */
export { averagePrecision, precisionAtK, rocAuc } from './inference/evaluate.js';
export {
  BATCH_DIM,
  buildModel,
  ElemType,
  floatInitializer,
  node,
  OPSETS,
  tensorValueInfo,
  type AttributeValue,
  type GraphParts,
} from './inference/onnx-export/graph-builder.js';
export {
  exportLogisticRegression,
  type LogisticRegressionExport,
} from './inference/onnx-export/logistic-regression.js';
export { exportMlp, type MlpExport } from './inference/onnx-export/mlp.js';
export {
  exportTreeEnsembleClassifier,
  exportTreeEnsembleRegressor,
  type TreeEnsembleExport,
} from './inference/onnx-export/tree-ensemble.js';
export { trainMlp, type MlpFit, type MlpOptions } from './inference/train/mlp.js';
export { trainGradientBoostedTrees, type GbtFit, type GbtOptions } from './inference/train/gbt.js';
export type { RegressionTree } from './inference/train/regression-tree.js';
export {
  trainLogisticRegression,
  type LogisticRegressionFit,
  type LogisticRegressionOptions,
} from './inference/train/logistic-regression.js';
export {
  diffFeatureFiles,
  type FeaturesDiff,
  type FeaturesDiffOptions,
} from './inference/train/features-diff.js';
export {
  ParquetWriter,
  type ParquetColumn,
  type ParquetColumnType,
  type ParquetWriterOptions,
} from './core/parquet-writer.js';
export { readParquet, type ParquetCell, type ParquetTable } from './core/parquet-reader.js';
export {
  openTrainingSet,
  trainingSetFormat,
  type TrainingSetFile,
  type TrainingSetFormat,
} from './apps/training-set.js';
