import { basename, extname } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InvalidArgumentError, ModelClosedError, ModelLoadError, ModelRunError } from './errors.js';
import type { InputPlan, Model, ModelMetadata } from './model.js';
import { lazyBytes, specsFromSession, zeroTensor } from './onnx-metadata.js';
import type { Tensor, TensorType } from './tensor.js';
import { checkInputPlan, validateInputs } from './validate.js';

/**
 * Options of {@link OnnxModel.load}.
 *
 * @example
 * const opts: OnnxModelOptions = { name: 'fraud', intraOpNumThreads: 1, warmup: true };
 */
export interface OnnxModelOptions {
  /** Model name in metadata; default: the file name without `.onnx`, or `model` for bytes. */
  name?: string;
  /** Model version in metadata; default `1`. */
  version?: string;
  /** Threads used inside one operator; default: ONNX Runtime's choice. */
  intraOpNumThreads?: number;
  /** Threads used across independent operators; default: ONNX Runtime's choice. */
  interOpNumThreads?: number;
  /** Graph optimizations applied at load; default `all`. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Run once on a zero batch of 1 row at load, so the first real batch is not slow; default true. */
  warmup?: boolean;
}

const OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'];

/**
 * A model run in-process by ONNX Runtime (onnxruntime-node, CPU).
 *
 * Note: `session.run()` is a synchronous native call deferred with `setImmediate`, so each
 * `run()` blocks the event loop for the whole inference; a worker-thread runner that keeps
 * the pipeline's loop free comes in a later issue.
 *
 * @example
 * const model = await OnnxModel.load('fraud.onnx', { intraOpNumThreads: 1 });
 * model.checkInputs([{ name: 'features', dims: [-1, 15] }]);
 * const { score } = await model.run({ features: float32Tensor(rows, [n, 15]) });
 * await model.close();
 */
export class OnnxModel implements Model {
  readonly metadata: ModelMetadata;
  readonly #session: ort.InferenceSession;
  readonly #outputNames: string[];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(session: ort.InferenceSession, metadata: ModelMetadata) {
    this.#session = session;
    this.metadata = metadata;
    this.#outputNames = metadata.outputs.map((o) => o.name);
  }

  /**
   * Loads a model from a `.onnx` file path or from model bytes, reads its input/output
   * names, types and shapes, and (by default) warms it up with one zero row.
   *
   * @example
   * const model = await OnnxModel.load(exportLogisticRegression({ weights, bias }), { name: 'lr' });
   */
  static async load(source: string | Uint8Array, opts: OnnxModelOptions = {}): Promise<OnnxModel> {
    const sessionOptions = toSessionOptions(opts);
    const where = typeof source === 'string' ? `"${source}"` : `${source.byteLength} bytes`;
    let session: ort.InferenceSession;
    try {
      session =
        typeof source === 'string'
          ? await ort.InferenceSession.create(source, sessionOptions)
          : await ort.InferenceSession.create(source, sessionOptions);
    } catch (cause) {
      throw new ModelLoadError(
        `could not load the ONNX model from ${where}: ${errorText(cause)}; check the path and that it is a valid ONNX model`,
        { cause },
      );
    }
    let model: OnnxModel;
    try {
      const bytes = lazyBytes(source);
      model = new OnnxModel(session, {
        name: opts.name ?? (typeof source === 'string' ? basename(source, extname(source)) : 'model'),
        version: opts.version ?? '1',
        inputs: await specsFromSession(session.inputMetadata, 'inputs', bytes),
        outputs: await specsFromSession(session.outputMetadata, 'outputs', bytes),
      });
    } catch (err) {
      await session.release();
      throw err;
    }
    // A model whose inputs declare no shape cannot be given a meaningful zero batch.
    if (opts.warmup !== false && model.metadata.inputs.every((s) => s.anyShape !== true)) {
      const zeros = Object.fromEntries(model.metadata.inputs.map((s) => [s.name, zeroTensor(s)]));
      try {
        await model.run(zeros);
      } catch (cause) {
        await model.close();
        throw new ModelLoadError(
          `the warm-up run of the model from ${where} on a zero batch of 1 row failed: ${errorText(cause)}; ` +
            'pass { warmup: false } if the model cannot run on zeros',
          { cause },
        );
      }
    }
    return model;
  }

  /**
   * Runs one batch. Inputs are checked against `metadata.inputs` first; a mismatch rejects with
   * a `ModelInputError` naming it, e.g. `input "features" expects dims [N,15], got [4,14]`.
   *
   * @example
   * const out = await model.run({ features: float32Tensor(rows, [rows.length / 15, 15]) });
   */
  async run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.#closed)
      throw new ModelClosedError(`model "${this.metadata.name}" is closed: load it again to run it`);
    validateInputs(this.metadata.inputs, inputs);
    const feeds: Record<string, ort.Tensor> = {};
    for (const spec of this.metadata.inputs) {
      const t = inputs[spec.name]!;
      // ort.Tensor wraps the caller's typed array without copying it
      feeds[spec.name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
    }
    const pending = this.#session.run(feeds, this.#outputNames);
    this.#inFlight.add(pending);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await pending;
    } catch (cause) {
      throw new ModelRunError(`model "${this.metadata.name}" failed to run: ${errorText(cause)}`, { cause });
    } finally {
      this.#inFlight.delete(pending);
    }
    const out: Record<string, Tensor> = {};
    for (const name of this.#outputNames) {
      const value = results[name] as ort.Tensor;
      out[name] = {
        type: value.type as TensorType,
        data: value.data as Tensor['data'],
        dims: [...value.dims],
      };
    }
    return out;
  }

  /**
   * Checks once, at pipeline start, that what the pipeline plans to feed fits this model
   * (names, types, ranks, fixed dims). Throws `ModelInputError` naming the first mismatch.
   *
   * @example
   * model.checkInputs([{ name: 'features', dims: ['N', 15] }]);
   */
  checkInputs(plan: readonly InputPlan[]): void {
    checkInputPlan(this.metadata.inputs, plan);
  }

  /**
   * Waits for runs in flight, then releases the native session. Safe to call twice.
   *
   * @example
   * await model.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // releasing while a deferred native run is queued would free the session under it
    await Promise.allSettled([...this.#inFlight]);
    await this.#session.release();
  }
}

function toSessionOptions(opts: OnnxModelOptions): ort.InferenceSession.SessionOptions {
  const out: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
  };
  for (const key of ['intraOpNumThreads', 'interOpNumThreads'] as const) {
    const v = opts[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0)
      throw new InvalidArgumentError(`${key} is ${v}: pass an integer >= 0 (0 lets ONNX Runtime choose)`);
    out[key] = v;
  }
  if (!OPTIMIZATION_LEVELS.includes(out.graphOptimizationLevel!)) {
    throw new InvalidArgumentError(
      `graphOptimizationLevel is "${opts.graphOptimizationLevel}": pass one of ${OPTIMIZATION_LEVELS.join(', ')}`,
    );
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
