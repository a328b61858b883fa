import { InvalidArgumentError } from '../errors.js';
import { BATCH_DIM, buildModel, ElemType, floatInitializer, node, tensorValueInfo } from './graph-builder.js';

/**
 * What {@link exportMlp} needs (an `MlpFit` has all of it).
 *
 * @example
 * const spec: MlpExport = { features: 2, hidden: 1, W1: [0.5, -1], b1: [0], W2: [2], b2: -1, mean: [0, 0], std: [1, 1] };
 */
export interface MlpExport {
  features: number;
  hidden: number;
  /** Row-major [features][hidden], over standardized features. */
  W1: ArrayLike<number>;
  b1: ArrayLike<number>;
  W2: ArrayLike<number>;
  b2: number;
  mean: ArrayLike<number>;
  std: ArrayLike<number>;
  /** Graph input name, default `features`. */
  inputName?: string;
  /** Graph output name, default `score`. */
  outputName?: string;
  /** Model name in the graph, default `mlp`. */
  name?: string;
}

/**
 * Exports a one-hidden-layer MLP as ONNX bytes:
 * `features float[N,F] -> Sub mean -> MatMul W1/std -> Add b1 -> Relu -> MatMul W2 -> Add b2 -> Sigmoid -> score float[N,1]`.
 * 1/std is folded into W1; the centering stays a node so float32 sums stay small (as for LR).
 *
 * @example
 * const fit = trainMlp(X, y, 15);
 * const model = await OnnxModel.load(exportMlp(fit));
 */
export function exportMlp(spec: MlpExport): Uint8Array {
  const { features: f, hidden: h, inputName = 'features', outputName = 'score', name = 'mlp' } = spec;
  if (!Number.isInteger(f) || f < 1 || !Number.isInteger(h) || h < 1)
    throw new InvalidArgumentError(`features (${f}) and hidden (${h}) must be positive integers`);
  const sizes: [string, ArrayLike<number>, number][] = [
    ['W1', spec.W1, f * h],
    ['b1', spec.b1, h],
    ['W2', spec.W2, h],
    ['mean', spec.mean, f],
    ['std', spec.std, f],
  ];
  for (const [label, values, want] of sizes) {
    if (values.length !== want)
      throw new InvalidArgumentError(
        `${label} has ${values.length} values; a ${f}-${h}-1 network needs ${want}`,
      );
    for (let k = 0; k < values.length; k++)
      if (!Number.isFinite(values[k]))
        throw new InvalidArgumentError(`${label}[${k}] is ${values[k]}: pass finite numbers`);
  }
  if (!Number.isFinite(spec.b2)) throw new InvalidArgumentError(`b2 is ${spec.b2}: pass a finite number`);
  const w1 = new Float64Array(f * h);
  for (let j = 0; j < f; j++) {
    const s = spec.std[j]! === 0 ? 1 : spec.std[j]!;
    for (let k = 0; k < h; k++) w1[j * h + k] = spec.W1[j * h + k]! / s;
  }
  return buildModel(
    {
      name,
      inputs: [tensorValueInfo(inputName, ElemType.float, [BATCH_DIM, f])],
      outputs: [tensorValueInfo(outputName, ElemType.float, [BATCH_DIM, 1])],
      initializers: [
        floatInitializer('mean', spec.mean, [f]),
        floatInitializer('W1', w1, [f, h]),
        floatInitializer('b1', spec.b1, [h]),
        floatInitializer('W2', spec.W2, [h, 1]),
        floatInitializer('b2', [spec.b2], [1]),
      ],
      nodes: [
        node('Sub', [inputName, 'mean'], ['centered']),
        node('MatMul', ['centered', 'W1'], ['hidden_raw']),
        node('Add', ['hidden_raw', 'b1'], ['hidden_pre']),
        node('Relu', ['hidden_pre'], ['hidden']),
        node('MatMul', ['hidden', 'W2'], ['logit_raw']),
        node('Add', ['logit_raw', 'b2'], ['logit']),
        node('Sigmoid', ['logit'], [outputName]),
      ],
      docString: 'one-hidden-layer MLP (ReLU, sigmoid output) exported by sluice',
    },
    { model_type: 'mlp', n_features: String(f), n_hidden: String(h) },
  );
}
