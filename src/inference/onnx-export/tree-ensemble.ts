import { InvalidArgumentError } from '../errors.js';
import type { RegressionTree } from '../train/regression-tree.js';
import {
  BATCH_DIM,
  buildModel,
  ElemType,
  floatInitializer,
  node,
  tensorValueInfo,
  type AttributeValue,
} from './graph-builder.js';

/**
 * What the tree-ensemble exporters need (a `GbtFit` has all of it).
 *
 * @example
 * const spec: TreeEnsembleExport = { features: 15, baseScore: -1.2, trees: fit.trees };
 */
export interface TreeEnsembleExport {
  features: number;
  /** Initial margin, added before the post transform. */
  baseScore: number;
  trees: readonly RegressionTree[];
  /** Graph input name, default `features`. */
  inputName?: string;
  /** Model name in the graph, default `gradient_boosted_trees`. */
  name?: string;
}

/**
 * Exports a binary gradient-boosted ensemble with ONNX-ML `TreeEnsembleClassifier`
 * (ai.onnx.ml opset 3, `post_transform: LOGISTIC`, leaf weights on class 0 with the base
 * score in `base_values`, ONNX Runtime's binary convention). Outputs, in order:
 * `score` float[N,1] = P(label 1), `probabilities` float[N,2], `label` int64[N].
 *
 * @example
 * const fit = trainGradientBoostedTrees(X, y, 15);
 * const model = await OnnxModel.load(exportTreeEnsembleClassifier(fit));
 */
export function exportTreeEnsembleClassifier(spec: TreeEnsembleExport): Uint8Array {
  const { inputName = 'features', name = 'gradient_boosted_trees' } = spec;
  const nodes = nodeAttributes(spec);
  const leaves = leafAttributes(spec.trees, 'class');
  return buildModel(
    {
      name,
      inputs: [tensorValueInfo(inputName, ElemType.float, [BATCH_DIM, spec.features])],
      outputs: [
        tensorValueInfo('score', ElemType.float, [BATCH_DIM, 1]),
        tensorValueInfo('probabilities', ElemType.float, [BATCH_DIM, 2]),
        tensorValueInfo('label', ElemType.int64, [BATCH_DIM]),
      ],
      // [1-p, p] · [0, 1]ᵀ = p exactly: picks column 1 without int64 Slice constants
      initializers: [floatInitializer('positive_column', [0, 1], [2, 1])],
      nodes: [
        node(
          'TreeEnsembleClassifier',
          [inputName],
          ['label', 'probabilities'],
          {
            ...nodes,
            ...leaves,
            classlabels_int64s: { ints: [0, 1] },
            post_transform: 'LOGISTIC',
            base_values: [spec.baseScore],
          },
          'ai.onnx.ml',
        ),
        node('MatMul', ['probabilities', 'positive_column'], ['score']),
      ],
      docString: 'gradient-boosted trees (binary logistic) exported by sluice',
    },
    {
      model_type: 'gradient_boosted_trees',
      n_features: String(spec.features),
      n_trees: String(spec.trees.length),
    },
  );
}

/**
 * Exports a tree ensemble with ONNX-ML `TreeEnsembleRegressor` (sum of leaves plus the base
 * score): output `margin` float[N,1], or with `{ sigmoid: true }` a `Sigmoid` node after it
 * giving `score` float[N,1] (the same probabilities as the classifier export).
 *
 * @example
 * const bytes = exportTreeEnsembleRegressor(fit, { sigmoid: fit.loss === 'logistic' });
 */
export function exportTreeEnsembleRegressor(
  spec: TreeEnsembleExport,
  opts: { sigmoid?: boolean } = {},
): Uint8Array {
  const { inputName = 'features', name = 'gradient_boosted_trees' } = spec;
  const sigmoid = opts.sigmoid === true;
  const raw = sigmoid ? 'margin_raw' : 'margin';
  const nodes = [
    node(
      'TreeEnsembleRegressor',
      [inputName],
      [raw],
      {
        ...nodeAttributes(spec),
        ...leafAttributes(spec.trees, 'target'),
        n_targets: { int: 1 },
        aggregate_function: 'SUM',
        post_transform: 'NONE',
        base_values: [spec.baseScore],
      },
      'ai.onnx.ml',
    ),
  ];
  if (sigmoid) nodes.push(node('Sigmoid', [raw], ['score']));
  return buildModel(
    {
      name,
      inputs: [tensorValueInfo(inputName, ElemType.float, [BATCH_DIM, spec.features])],
      outputs: [tensorValueInfo(sigmoid ? 'score' : 'margin', ElemType.float, [BATCH_DIM, 1])],
      nodes,
      docString: 'tree ensemble regressor exported by sluice',
    },
    {
      model_type: 'tree_ensemble_regressor',
      n_features: String(spec.features),
      n_trees: String(spec.trees.length),
    },
  );
}

function nodeAttributes(spec: TreeEnsembleExport): Record<string, AttributeValue> {
  if (!Number.isInteger(spec.features) || spec.features < 1)
    throw new InvalidArgumentError(`features is ${spec.features}: pass the number of input features`);
  if (spec.trees.length === 0) throw new InvalidArgumentError('trees is empty: pass at least one tree');
  if (!Number.isFinite(spec.baseScore))
    throw new InvalidArgumentError(`baseScore is ${spec.baseScore}: pass a number`);
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  spec.trees.forEach((tree, t) => {
    for (let k = 0; k < tree.left.length; k++) {
      const leaf = tree.left[k] === -1;
      if (!leaf && (tree.feature[k]! < 0 || tree.feature[k]! >= spec.features))
        throw new InvalidArgumentError(
          `tree ${t} node ${k} splits on feature ${tree.feature[k]}, out of range`,
        );
      treeIds.push(t);
      nodeIds.push(k);
      featureIds.push(leaf ? 0 : tree.feature[k]!);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : tree.threshold[k]!);
      trueIds.push(leaf ? 0 : tree.left[k]!);
      falseIds.push(leaf ? 0 : tree.right[k]!);
    }
  });
  return {
    nodes_treeids: { ints: treeIds },
    nodes_nodeids: { ints: nodeIds },
    nodes_featureids: { ints: featureIds },
    nodes_modes: modes,
    nodes_values: { floats: values },
    nodes_truenodeids: { ints: trueIds },
    nodes_falsenodeids: { ints: falseIds },
    // NaN fails x <= t and goes to the false branch, as in training
    nodes_missing_value_tracks_true: { ints: new Array<number>(treeIds.length).fill(0) },
  };
}

function leafAttributes(
  trees: readonly RegressionTree[],
  prefix: 'class' | 'target',
): Record<string, AttributeValue> {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const weights: number[] = [];
  trees.forEach((tree, t) => {
    for (let k = 0; k < tree.left.length; k++) {
      if (tree.left[k] !== -1) continue;
      treeIds.push(t);
      nodeIds.push(k);
      weights.push(tree.value[k]!);
    }
  });
  return {
    [`${prefix}_treeids`]: { ints: treeIds },
    [`${prefix}_nodeids`]: { ints: nodeIds },
    [`${prefix}_ids`]: { ints: new Array<number>(treeIds.length).fill(0) },
    [`${prefix}_weights`]: { floats: weights },
  };
}
