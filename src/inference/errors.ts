import { SluiceError } from '../core/errors.js';

/**
 * Stable error codes of the inference layer. A code is never reused for another meaning.
 *
 * @example
 * if (err instanceof InferenceError && err.code === InferenceErrorCodes.inputDims) retryWithFixedShape();
 */
export const InferenceErrorCodes = {
  inputMissing: 'SLUICE_INFERENCE_INPUT_MISSING',
  inputUnknown: 'SLUICE_INFERENCE_INPUT_UNKNOWN',
  inputType: 'SLUICE_INFERENCE_INPUT_TYPE',
  inputDims: 'SLUICE_INFERENCE_INPUT_DIMS',
  tensorSize: 'SLUICE_INFERENCE_TENSOR_SIZE',
  unsupportedType: 'SLUICE_INFERENCE_UNSUPPORTED_TYPE',
  modelLoad: 'SLUICE_INFERENCE_MODEL_LOAD',
  modelClosed: 'SLUICE_INFERENCE_MODEL_CLOSED',
  modelRun: 'SLUICE_INFERENCE_MODEL_RUN',
  invalidArgument: 'SLUICE_INFERENCE_INVALID_ARGUMENT',
  queueFull: 'SLUICE_INFERENCE_QUEUE_FULL',
  queueTimeout: 'SLUICE_INFERENCE_QUEUE_TIMEOUT',
  batchOutput: 'SLUICE_INFERENCE_BATCH_OUTPUT',
  timeout: 'SLUICE_INFERENCE_TIMEOUT',
  circuitOpen: 'SLUICE_INFERENCE_CIRCUIT_OPEN',
  bulkheadFull: 'SLUICE_INFERENCE_BULKHEAD_FULL',
  overloaded: 'SLUICE_INFERENCE_OVERLOADED',
  remote: 'SLUICE_INFERENCE_REMOTE',
  protocol: 'SLUICE_INFERENCE_PROTOCOL',
  worker: 'SLUICE_INFERENCE_WORKER',
  swapMismatch: 'SLUICE_INFERENCE_SWAP_MISMATCH',
  aborted: 'SLUICE_INFERENCE_ABORTED',
} as const;

/**
 * One of the stable codes in {@link InferenceErrorCodes}.
 *
 * @example
 * const code: InferenceErrorCode = 'SLUICE_INFERENCE_INPUT_DIMS';
 */
export type InferenceErrorCode = (typeof InferenceErrorCodes)[keyof typeof InferenceErrorCodes];

/**
 * Base class of every error thrown by `src/inference` (a {@link SluiceError}).
 *
 * @example
 * try { await model.run(inputs); } catch (e) { if (e instanceof InferenceError) console.error(e.code); }
 */
export class InferenceError extends SluiceError {
  declare readonly code: InferenceErrorCode;
  /**
   * True when the same call may succeed if tried again later (a timeout, shed load, a lost
   * connection); resilience retries only these, and only for idempotent calls.
   */
  readonly retryable: boolean;

  constructor(code: InferenceErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(code, message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * Inputs given to a model do not match what the model declares (name, type or dims).
 *
 * @example
 * // input "features" expects dims [N,15], got [4,14]
 * if (err instanceof ModelInputError) console.error(err.input, err.message);
 */
export class ModelInputError extends InferenceError {
  /** The name of the input that does not match. */
  readonly input: string;

  constructor(
    code:
      | typeof InferenceErrorCodes.inputMissing
      | typeof InferenceErrorCodes.inputUnknown
      | typeof InferenceErrorCodes.inputType
      | typeof InferenceErrorCodes.inputDims,
    input: string,
    message: string,
  ) {
    super(code, message);
    this.input = input;
  }
}

/**
 * A tensor's data length is not the product of its dims.
 *
 * @example
 * float32Tensor(new Float32Array(5), [2, 3]); // throws TensorSizeError
 */
export class TensorSizeError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.tensorSize, message);
  }
}

/**
 * A model uses an element type or value kind that Sluice cannot convert.
 *
 * @example
 * // thrown by OnnxModel.load for a model whose output is a ZipMap (sequence of maps)
 */
export class UnsupportedTensorTypeError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.unsupportedType, message);
  }
}

/**
 * A model could not be loaded (missing file, invalid ONNX, failed warm-up run).
 *
 * @example
 * await OnnxModel.load('missing.onnx'); // rejects with ModelLoadError
 */
export class ModelLoadError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.modelLoad, message, options);
  }
}

/**
 * `run()` was called after `close()`.
 *
 * @example
 * await model.close(); await model.run(inputs); // rejects with ModelClosedError
 */
export class ModelClosedError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.modelClosed, message);
  }
}

/**
 * The runtime failed while running a model on inputs that passed validation.
 *
 * @example
 * if (err instanceof ModelRunError) console.error(err.cause);
 */
export class ModelRunError extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(InferenceErrorCodes.modelRun, message, options);
  }
}

/**
 * An argument or option is invalid (wrong length, non-finite value, out of range).
 *
 * @example
 * trainLogisticRegression(X, y, 0); // throws InvalidArgumentError: f must be a positive integer
 */
export class InvalidArgumentError extends InferenceError {
  constructor(message: string) {
    super(InferenceErrorCodes.invalidArgument, message);
  }
}
