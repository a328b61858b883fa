import { basename, extname } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { InvalidArgumentError, ModelClosedError, ModelLoadError, ModelRunError } from './errors.js';
import type { InputPlan, Model, ModelMetadata } from './model.js';
import { lazyBytes, specsFromSession, zeroTensor } from './onnx-metadata.js';
import { loadOnnxRuntime, type OnnxRuntime } from './onnx-runtime.js';
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
  /** Run independent operators one after another or in parallel (inter-op threads); default `sequential`. */
  executionMode?: 'sequential' | 'parallel';
  /** ONNX Runtime's CPU memory arena; default true (faster; false returns memory between runs). */
  enableCpuMemArena?: boolean;
  /**
   * Run once on a zero batch at load, so the first real batch is not slow: `true` (default) is
   * 1 row, a number is that many rows (e.g. the batcher's `maxBatchSize`), `false` skips it.
   */
  warmup?: boolean | number;
}

const OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'];
const EXECUTION_MODES = ['sequential', 'parallel'];

/**
 * A model run in-process by ONNX Runtime (onnxruntime-node, CPU).
 *
 * Note: `session.run()` is a synchronous native call deferred with `setImmediate`, so each
 * `run()` blocks the event loop for the whole inference; `OnnxWorkerModel` runs the same
 * sessions in worker threads and keeps the pipeline's loop free.
 *
 * @example
 * const model = await OnnxModel.load('fraud.onnx', { intraOpNumThreads: 1 });
 * model.checkInputs([{ name: 'features', dims: [-1, 15] }]);
 * const { score } = await model.run({ features: float32Tensor(rows, [n, 15]) });
 * await model.close();
 */
export class OnnxModel implements Model {
  readonly metadata: ModelMetadata;
  readonly #runtime: OnnxRuntime;
  readonly #session: ort.InferenceSession;
  readonly #outputNames: string[];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(runtime: OnnxRuntime, session: ort.InferenceSession, metadata: ModelMetadata) {
    this.#runtime = runtime;
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
    const warmRows =
      opts.warmup === undefined || opts.warmup === true ? 1 : opts.warmup === false ? 0 : opts.warmup;
    if (!Number.isInteger(warmRows) || warmRows < 0)
      throw new InvalidArgumentError(`warmup is ${opts.warmup}: pass true, false or a row count >= 0`);
    const where = typeof source === 'string' ? `"${source}"` : `${source.byteLength} bytes`;
    const runtime = await loadOnnxRuntime();
    let session: ort.InferenceSession;
    try {
      session =
        typeof source === 'string'
          ? await runtime.InferenceSession.create(source, sessionOptions)
          : await runtime.InferenceSession.create(source, sessionOptions);
    } catch (cause) {
      throw new ModelLoadError(
        `could not load the ONNX model from ${where}: ${errorText(cause)}; check the path and that it is a valid ONNX model`,
        { cause },
      );
    }
    let model: OnnxModel;
    try {
      const bytes = lazyBytes(source);
      model = new OnnxModel(runtime, session, {
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
    if (warmRows > 0 && model.metadata.inputs.every((s) => s.anyShape !== true)) {
      const zeros = Object.fromEntries(model.metadata.inputs.map((s) => [s.name, zeroTensor(s, warmRows)]));
      try {
        await model.run(zeros);
      } catch (cause) {
        await model.close();
        throw new ModelLoadError(
          `the warm-up run of the model from ${where} on a zero batch of ${warmRows} row(s) failed: ${errorText(cause)}; ` +
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
      feeds[spec.name] = new this.#runtime.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
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
   * Checks once, at start, that the model gives the outputs a caller will read (and with the
   * expected types when given). Throws `InvalidArgumentError` naming what is missing.
   *
   * @example
   * model.checkOutputs([{ name: 'score', type: 'float32' }]);
   */
  checkOutputs(wanted: readonly { name: string; type?: TensorType }[]): void {
    for (const w of wanted) {
      const spec = this.metadata.outputs.find((o) => o.name === w.name);
      if (spec === undefined)
        throw new InvalidArgumentError(
          `model "${this.metadata.name}" has no output "${w.name}": it gives ${this.metadata.outputs.map((o) => `"${o.name}"`).join(', ')}`,
        );
      if (w.type !== undefined && w.type !== spec.type)
        throw new InvalidArgumentError(
          `output "${w.name}" of model "${this.metadata.name}" is ${spec.type}, not ${w.type}`,
        );
    }
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
  if (opts.executionMode !== undefined) {
    if (!EXECUTION_MODES.includes(opts.executionMode))
      throw new InvalidArgumentError(`executionMode is "${opts.executionMode}": pass sequential or parallel`);
    out.executionMode = opts.executionMode;
  }
  if (opts.enableCpuMemArena !== undefined) out.enableCpuMemArena = opts.enableCpuMemArena;
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
