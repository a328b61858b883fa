import { InvalidArgumentError } from '../errors.js';
import { BATCH_DIM, buildModel, ElemType, floatInitializer, node, tensorValueInfo } from './graph-builder.js';

/**
 * What {@link exportLogisticRegression} needs.
 *
 * @example
 * const spec: LogisticRegressionExport = { weights: [0.4, -1.2], bias: 0.1, mean: [50, 3], std: [20, 1] };
 */
export interface LogisticRegressionExport {
  /** One weight per feature, in the space of `mean`/`std` when given, else of the raw features. */
  weights: ArrayLike<number>;
  bias: number;
  /** Per-feature means the weights were trained against; folded into the exported weights. */
  mean?: ArrayLike<number>;
  /** Per-feature standard deviations (0 is read as 1, as the trainer does); folded in too. */
  std?: ArrayLike<number>;
  /** Graph input name, default `features`. */
  inputName?: string;
  /** Graph output name, default `score`. */
  outputName?: string;
  /**
   * Fold the mean into the bias too (b' = b − Σ w·mean/std) instead of a `Sub mean` node: up to
   * 3x the rows/s on batches ≥ 1024, but float32 then loses digits when features are large
   * relative to their spread. Default false.
   */
  foldMean?: boolean;
  /** Model name stored in the graph, default `logistic_regression`. */
  name?: string;
}

/**
 * Exports a binary logistic regression as ONNX bytes:
 * `features float[N,F] -> MatMul W[F,1] -> Add b -> Sigmoid -> score float[N,1]`.
 * With `mean`/`std` the model takes raw features: 1/std is folded into the weights (w' = w/std)
 * and the centering stays a `Sub mean` node in front of MatMul, which is the same function as
 * b' = b - Σ w·mean/std but keeps float32 sums small when features are large (see the comment below).
 *
 * @example
 * const fit = trainLogisticRegression(X, y, 15);
 * const bytes = exportLogisticRegression(fit.standardized); // or { weights: fit.weights, bias: fit.bias }
 * const model = await OnnxModel.load(bytes);
 */
export function exportLogisticRegression(spec: LogisticRegressionExport): Uint8Array {
  if ('predict' in spec) {
    throw new InvalidArgumentError(
      'got a LogisticRegressionFit: pass fit.standardized, or { weights: fit.weights, bias: fit.bias }; ' +
        "the fit's weights already include its mean/std, which would be applied twice",
    );
  }
  const { inputName = 'features', outputName = 'score', name = 'logistic_regression' } = spec;
  const f = spec.weights.length;
  if (f === 0) throw new InvalidArgumentError('weights is empty: pass one weight per feature');
  if (inputName === outputName)
    throw new InvalidArgumentError(
      `inputName and outputName are both "${inputName}": give them different names`,
    );
  checkFinite('weights', spec.weights);
  if (!Number.isFinite(spec.bias))
    throw new InvalidArgumentError(`bias is ${spec.bias}: pass a finite number`);
  for (const [label, values] of [
    ['mean', spec.mean],
    ['std', spec.std],
  ] as const) {
    if (values === undefined) continue;
    if (values.length !== f) {
      throw new InvalidArgumentError(
        `${label} has ${values.length} values but weights has ${f}: pass one per feature`,
      );
    }
    checkFinite(label, values);
  }

  const weights = new Float64Array(f);
  for (let j = 0; j < f; j++) {
    const s = spec.std?.[j] ?? 1;
    weights[j] = spec.weights[j]! / (s === 0 ? 1 : s);
  }
  // Folding the mean into the bias too makes float32 cancel two large sums for raw features of
  // large magnitude (5x the error on the tests' data); subtracting it first keeps terms near 0.
  const center = spec.mean !== undefined && spec.foldMean !== true;
  let bias = spec.bias;
  if (spec.mean !== undefined && !center) for (let j = 0; j < f; j++) bias -= weights[j]! * spec.mean[j]!;
  const features = center ? 'centered' : inputName;
  const initializers = [floatInitializer('W', weights, [f, 1]), floatInitializer('B', [bias], [1])];
  const nodes = [
    node('MatMul', [features, 'W'], ['logit_raw']),
    node('Add', ['logit_raw', 'B'], ['logit']),
    node('Sigmoid', ['logit'], [outputName]),
  ];
  if (center) {
    initializers.push(floatInitializer('mean', spec.mean!, [f]));
    nodes.unshift(node('Sub', [inputName, 'mean'], [features]));
  }

  return buildModel(
    {
      name,
      inputs: [tensorValueInfo(inputName, ElemType.float, [BATCH_DIM, f])],
      outputs: [tensorValueInfo(outputName, ElemType.float, [BATCH_DIM, 1])],
      initializers,
      nodes,
      docString: 'binary logistic regression exported by sluice',
    },
    { model_type: 'logistic_regression', n_features: String(f) },
  );
}

function checkFinite(label: string, values: ArrayLike<number>): void {
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j]))
      throw new InvalidArgumentError(`${label}[${j}] is ${values[j]}: pass finite numbers`);
  }
}
