import type { Envelope } from './envelope.js';
import { SluiceError, requireOption } from './errors.js';
import type { ModelLike, TensorLike } from './interfaces.js';
import { deadLetter, type AsyncStep, type Batch } from './steps.js';

/** How a pipeline feeds a model and reads its answer. */
export interface InferOptions<T, U> {
  /** The feature row of one record (`width` numbers). */
  input: (value: T) => ArrayLike<number>;
  /** Features per row; checked against the model's input shape at start. */
  width: number;
  /** Model input name; default: the model's first input, else "features". */
  inputName?: string;
  /** Model output name; default: the model's first output, else "score". */
  outputName?: string;
  /** Builds the next value from the record and its output row. */
  output: (value: T, row: Float32Array | Float64Array) => U;
  /** Stage name in metrics; default "infer". */
  name?: string;
}

/**
 * The inference stage: one model call per batch, with the batch's rows packed into one
 * Float32Array (no per-record tensors). A failed call sends the batch's records to the dead
 * letters with the reason; the pipeline keeps going.
 */
export function inferStep<T, U>(model: ModelLike, opts: InferOptions<T, U>): AsyncStep {
  requireOption(
    Number.isInteger(opts.width) && opts.width > 0,
    `infer: width must be a positive integer, got ${opts.width}`,
  );
  const name = opts.name ?? 'infer';
  const inputName = opts.inputName ?? model.metadata?.inputs[0]?.name ?? 'features';
  const outputName = opts.outputName ?? model.metadata?.outputs[0]?.name ?? 'score';
  const width = opts.width;
  return {
    kind: 'async',
    name,
    async open() {
      const meta = model.metadata;
      if (!meta) return;
      const input = meta.inputs.find((i) => i.name === inputName);
      if (!input) {
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model has no input "${inputName}" (it has: ${meta.inputs.map((i) => i.name).join(', ')}); set inputName`,
        );
      }
      const last = input.dims[input.dims.length - 1];
      if (typeof last === 'number' && last > 0 && last !== width) {
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model input "${inputName}" expects ${last} features per row, the pipeline gives ${width}`,
        );
      }
      if (!meta.outputs.some((o) => o.name === outputName)) {
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model has no output "${outputName}" (it has: ${meta.outputs.map((o) => o.name).join(', ')}); set outputName`,
        );
      }
    },
    async process(batch: Batch) {
      const recs = batch.records as Envelope<T>[];
      const n = recs.length;
      if (n === 0) return;
      // A fresh array per call: the runner may keep or transfer it (a batcher holds it until
      // its batch runs).
      const data = new Float32Array(n * width);
      for (let i = 0; i < n; i++) {
        const row = opts.input(recs[i]!.value);
        const base = i * width;
        for (let j = 0; j < width; j++) data[base + j] = row[j]!;
      }
      const feeds: Record<string, TensorLike> = {};
      feeds[inputName] = { type: 'float32', data, dims: [n, width] };
      let out: TensorLike | undefined;
      try {
        out = (await model.run(feeds))[outputName];
        if (!out) throw new Error(`model returned no output "${outputName}"`);
      } catch (e) {
        const err = new Error(`inference failed: ${(e as Error).message}`);
        for (const env of recs) deadLetter(batch, env, name, err, env.value);
        batch.records = [];
        return;
      }
      const result = out.data as Float32Array | Float64Array;
      const k = result.length / n;
      for (let i = 0; i < n; i++) {
        const env = recs[i]! as Envelope<unknown>;
        env.value = opts.output(recs[i]!.value, n === 1 ? result : result.subarray(i * k, i * k + k));
      }
    },
  };
}
