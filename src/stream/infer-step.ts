import type { Envelope } from './envelope.js';
import { SluiceError, requireOption } from './errors.js';
import type { ModelLike, StageContext, TensorLike } from './interfaces.js';
import { deadLetter, type AsyncStep, type Batch } from './steps.js';
import {
  ON_UNAVAILABLE,
  STOPPED,
  isBadInput,
  isModelUnavailable,
  isRefusedByServer,
  waitOut,
  type OnUnavailable,
  type WaitBackoff,
} from './model-outage.js';
import { applyScores, type Scored } from './infer-output.js';

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
  /**
   * While the model is unavailable (unreachable, timing out, 5xx, 429, circuit open):
   * `wait` (default) holds the batch and retries with backoff, the source pauses, no checkpoint
   * passes the held records, and the run resumes when the model is back; `deadLetter` sends
   * the batch to the dead letters; `fallback` lets the model's resilience fallback answer
   * (`withResilience(model, { fallback })`; without one, dead letters). Bad records go to the
   * dead letters under every policy.
   */
  onUnavailable?: OnUnavailable;
  /** Waits between tries under `wait`; default 100 ms doubling to 2000 ms. */
  waitBackoff?: WaitBackoff;
}

/** Options passed to `model.run`: the stop signal, and which errors the resilience fallback answers. */
type RunOptions = { signal?: AbortSignal; fallbackOn?: (error: Error) => boolean };
/** A model call as the infer stage makes it (`ModelLike.run` takes no options; `Model.run` does). */
type Run = (inputs: Record<string, TensorLike>, options: RunOptions) => Promise<Record<string, TensorLike>>;
/** A model that reports a circuit breaker (`withResilience`): its state goes to the metrics. */
type WithCircuit = { stats(): { name?: unknown; circuit?: unknown } };

/** Under `wait` and `deadLetter`: what the resilience fallback may still answer. */
const neitherOutageNorBadInput = (e: Error): boolean => !isModelUnavailable(e) && !isBadInput(e);
const BREAKER_STATES = new Set(['closed', 'open', 'half-open']);
/**
 * Extra calls a batch may spend halving to find the records a server refuses: a few bad
 * records take 2·log2(batch) calls each; a server that refuses everything (a wrong model name)
 * must cost one batch of dead letters, not a call per record.
 */
const SPLIT_CALLS = 64;

/**
 * The inference stage: one model call per batch, with the batch's rows packed into one
 * Float32Array (no per-record tensors). While the model is unavailable the stage follows
 * `onUnavailable` (default: wait it out, holding the batch and its checkpoint barrier). A batch
 * the model refuses as bad input is split in halves until the bad records are found; those,
 * rows of the wrong width and answers that cannot be read go to the dead letters with the
 * reason, and the pipeline keeps going.
 *
 * @example
 * pipeline('fraud').from(src)
 *   .infer(model, { width: 3, input: (t) => t.features, output: (t, row) => ({ ...t, score: row[0]! }), onUnavailable: 'wait' })
 */
export function inferStep<T, U>(model: ModelLike, opts: InferOptions<T, U>): AsyncStep {
  requireOption(
    Number.isInteger(opts.width) && opts.width > 0,
    `infer: width must be a positive integer, got ${opts.width}`,
  );
  const policy = opts.onUnavailable ?? 'wait';
  requireOption(
    ON_UNAVAILABLE.includes(policy),
    `infer: onUnavailable must be one of ${ON_UNAVAILABLE.join(', ')}, got ${String(policy)}`,
  );
  const backoff = opts.waitBackoff ?? {};
  const first = backoff.initialDelayMs ?? 100;
  requireOption(first > 0, `infer: waitBackoff.initialDelayMs must be > 0, got ${first}`);
  requireOption(
    (backoff.maxDelayMs ?? 2000) >= first,
    `infer: waitBackoff.maxDelayMs must be >= initialDelayMs (${first}), got ${backoff.maxDelayMs}`,
  );
  const name = opts.name ?? 'infer';
  const inputName = opts.inputName ?? model.metadata?.inputs[0]?.name ?? 'features';
  const outputName = opts.outputName ?? model.metadata?.outputs[0]?.name ?? 'score';
  const width = opts.width;
  const run = model.run.bind(model) as Run;
  // Under wait and deadLetter the resilience fallback must not answer an outage (the stage
  // does) nor a bad record (the dead letters do); it still answers the other failures it is
  // configured for (a malformed answer, a model bug).
  const fallbackOn = policy === 'fallback' ? undefined : neitherOutageNorBadInput;
  const maybe = model as unknown as Partial<WithCircuit>;
  const circuit = typeof maybe.stats === 'function' ? (maybe as WithCircuit) : undefined;

  /** The rows of records `lo..hi`, packed again (the first call's array may have been transferred). */
  const pack = (recs: Envelope<T>[], lo: number, hi: number): Float32Array => {
    const data = new Float32Array((hi - lo) * width);
    for (let i = lo; i < hi; i++) data.set(opts.input(recs[i]!.value) as ArrayLike<number>, (i - lo) * width);
    return data;
  };

  const reportBreaker = (ctx: StageContext): void => {
    if (circuit === undefined || ctx.metrics === undefined) return;
    const s = circuit.stats();
    if (typeof s.name === 'string' && typeof s.circuit === 'string' && BREAKER_STATES.has(s.circuit))
      ctx.metrics.setBreakerState(s.name, s.circuit as 'closed' | 'open' | 'half-open');
  };

  /**
   * Scores records `lo..hi` into `out` (ranges with their output, or with the error that sends
   * them to the dead letters). False when the run stopped while the model was unavailable.
   */
  const score = async (
    recs: Envelope<T>[],
    lo: number,
    hi: number,
    packed: Float32Array | undefined,
    ctx: StageContext,
    out: Scored[],
    budget: { calls: number },
  ): Promise<boolean> => {
    let fresh = packed;
    const call = async (signal: AbortSignal | undefined) => {
      const data = fresh ?? pack(recs, lo, hi);
      fresh = undefined;
      const feeds: Record<string, TensorLike> = {
        [inputName]: { type: 'float32', data, dims: [hi - lo, width] },
      };
      const startedAt = performance.now();
      try {
        return await run(feeds, { signal, fallbackOn });
      } finally {
        // Every call, failed ones included: a timing-out model shows as slow calls, not as none.
        ctx.metrics?.modelCall(name).record(performance.now() - startedAt);
        reportBreaker(ctx);
      }
    };
    let result: Record<string, TensorLike> | typeof STOPPED;
    try {
      result =
        policy === 'wait'
          ? await waitOut(call, ctx.stopping, backoff, {
              waiting: () => ctx.metrics?.setWaiting(name, recs.length),
              resumed: () => ctx.metrics?.setWaiting(name, 0),
            })
          : await call(undefined);
    } catch (e) {
      if (isRefusedByServer(e) && hi - lo > 1 && budget.calls >= 2) {
        // One bad record fails the whole call: halve until the bad ones are alone.
        budget.calls -= 2;
        const mid = (lo + hi) >>> 1;
        return (
          (await score(recs, lo, mid, undefined, ctx, out, budget)) &&
          score(recs, mid, hi, undefined, ctx, out, budget)
        );
      }
      out.push({ lo, hi, error: new Error(`inference failed: ${(e as Error).message}`) });
      return true;
    }
    if (result === STOPPED) return false;
    out.push({ lo, hi, output: result[outputName], outputName });
    return true;
  };

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
      // .infer() feeds float32 rows: a model that declares another input type would refuse every
      // call (and every record would go to the dead letters), so say so before the first record.
      if (input.type !== undefined && input.type !== 'float32') {
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model input "${inputName}" expects type ${input.type}, but .infer() feeds it float32 numbers (input() gives ${width} per record); ` +
            `give the model a float32 input, or build ${input.type} tensors in a .mapBatch() stage and call the model there`,
        );
      }
      const last = input.dims[input.dims.length - 1];
      if (typeof last === 'number' && last > 0 && last !== width) {
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model input "${inputName}" expects ${last} features per row, the pipeline gives ${width}`,
        );
      }
      const output = meta.outputs.find((o) => o.name === outputName);
      if (!output) {
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model has no output "${outputName}" (it has: ${meta.outputs.map((o) => o.name).join(', ')}); set outputName`,
        );
      }
      if (output.type === 'string' || output.type === 'bool') {
        const numeric = meta.outputs
          .filter((o) => o.type !== 'string' && o.type !== 'bool')
          .map((o) => o.name);
        throw new SluiceError(
          'SLUICE_MODEL_MISMATCH',
          `infer: model output "${outputName}" is of type ${output.type}, but .infer() hands output() numbers; ` +
            (numeric.length > 0
              ? `set outputName to one of: ${numeric.join(', ')}`
              : 'call the model in a .mapBatch() stage'),
        );
      }
    },
    async process(batch: Batch, ctx: StageContext) {
      if (batch.records.length === 0) return;
      // A fresh array per call: the runner may keep or transfer it (a batcher holds it until
      // its batch runs).
      const data = packRows(batch, name, opts.input, width);
      const recs = batch.records as Envelope<T>[];
      if (recs.length === 0) return;
      const scored: Scored[] = [];
      if (!(await score(recs, 0, recs.length, data, ctx, scored, { calls: SPLIT_CALLS }))) {
        // Stopped while the model was down: the batch (and its barrier) goes no further.
        batch.unfinished = true;
        return;
      }
      applyScores(batch, name, scored, opts.output);
    },
  };
}

/**
 * Packs each record's row into one array, compacting the batch: a record whose `input` throws
 * or gives a row of the wrong width goes to the dead letters with the reason.
 */
function packRows<T>(
  batch: Batch,
  stage: string,
  input: (value: T) => ArrayLike<number>,
  width: number,
): Float32Array {
  const recs = batch.records as Envelope<T>[];
  const data = new Float32Array(recs.length * width);
  let kept = 0;
  for (let i = 0; i < recs.length; i++) {
    const env = recs[i]!;
    let row: ArrayLike<number>;
    try {
      row = input(env.value);
      if (row?.length !== width)
        throw new Error(`infer: input gave ${row?.length ?? String(row)} features, the model takes ${width}`);
    } catch (e) {
      deadLetter(batch, env, stage, e, env.value);
      continue;
    }
    const base = kept * width;
    for (let j = 0; j < width; j++) data[base + j] = row[j]!;
    recs[kept++] = env;
  }
  recs.length = kept;
  return kept * width === data.length ? data : data.subarray(0, kept * width);
}
