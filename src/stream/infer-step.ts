import type { Envelope } from './envelope.js';
import { requireOption, SluiceError } from './errors.js';
import { ROW_ERRORS } from '../core/row-errors.js';
import type { ModelLike, StageContext, TensorLike } from './interfaces.js';
import type { AsyncStep, Batch } from './steps.js';
import {
  ON_UNAVAILABLE,
  STOPPED,
  isBadInput,
  isModelUnavailable,
  isRefusedByServer,
  waitOut,
  type WaitHooks,
  type OnUnavailable,
  type WaitBackoff,
} from './model-outage.js';
import { applyScores, type Scored } from './infer-output.js';
import { checkMapping } from './infer-check.js';
import {
  INFER_TENSOR_KINDS,
  packer,
  rowReader,
  type InferInputRow,
  type InferOutputRow,
  type InferTensorKind,
} from './infer-tensors.js';

/**
 * How a pipeline feeds a model and reads its answer. `I` and `O` follow `inputType` and
 * `outputType` (default `float32`: rows of numbers in, a Float32Array/Float64Array row out).
 */
export interface InferOptions<
  T,
  U,
  I extends InferTensorKind = 'float32',
  O extends InferTensorKind = 'float32',
> {
  /** One record's input row: `width` numbers; for `string` a text (or `width` texts); for `json` any value. */
  input: (value: T) => InferInputRow<I>;
  /**
   * Values per record; checked against the model's input shape at start. Required for
   * numeric inputs; default 1 for `string` and `json`.
   */
  width?: number;
  /**
   * Element type of the input tensor, checked at start against the model's: `float32`
   * (default), `float64`, `int32`, `int64`, `bool`, `string` (KServe BYTES, an LLM's text) or
   * `json` (the value serialized as JSON text into a string tensor).
   */
  inputType?: I;
  /**
   * How output() gets its row, checked at start against the model's output type: `float32`
   * (default: numbers), `float64`, `int32`, `int64`, `bool`, `string`, or `json` (a string
   * output parsed; a row that does not parse goes to the dead letters with the reason).
   */
  outputType?: O;
  /** Model input name; default: the model's first input, else "features". */
  inputName?: string;
  /** Model output name; default: the model's first output, else "score". */
  outputName?: string;
  /** Builds the next value from the record and its output row. */
  output: (value: T, row: InferOutputRow<O>) => U;
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
type RunOptions = {
  signal?: AbortSignal;
  fallbackOn?: (error: Error) => boolean;
  outputs?: readonly string[];
};
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
export function inferStep<T, U, I extends InferTensorKind = 'float32', O extends InferTensorKind = 'float32'>(
  model: ModelLike,
  opts: InferOptions<T, U, I, O>,
): AsyncStep {
  for (const [key, kind] of [
    ['inputType', opts.inputType],
    ['outputType', opts.outputType],
  ] as const)
    requireOption(
      kind === undefined || INFER_TENSOR_KINDS.includes(kind),
      `infer: ${key} must be one of ${INFER_TENSOR_KINDS.join(', ')}, got ${String(kind)}`,
    );
  const text = opts.inputType === 'string' || opts.inputType === 'json';
  const width = opts.width ?? (text ? 1 : Number.NaN);
  requireOption(
    Number.isInteger(width) && width > 0,
    `infer: width must be a positive integer, got ${opts.width}`,
  );
  requireOption(
    opts.inputType !== 'json' || width === 1,
    `infer: inputType 'json' sends one value per record; width must be 1, got ${width}`,
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
  const inputKind: InferTensorKind = opts.inputType ?? 'float32';
  // A model input with one dim ([N]) takes one value per record, sent as [N] (a text model's
  // "text"); the original float32 contract always sends [N, width].
  const declared = model.metadata?.inputs.find((i) => i.name === inputName);
  const rank1 = inputKind !== 'float32' && declared?.dims.length === 1;
  const pack = packer(inputKind, width, rank1, opts.input as (v: unknown) => unknown, inputName);
  const readRow = rowReader(opts.outputType ?? 'float32');
  const run = model.run.bind(model) as Run;
  // Under wait and deadLetter the resilience fallback must not answer an outage (the stage
  // does) nor a bad record (the dead letters do); it still answers the other failures it is
  // configured for (a malformed answer, a model bug).
  const fallbackOn = policy === 'fallback' ? undefined : neitherOutageNorBadInput;
  // The options of a batch's first call (no stop signal before a first failure, as in `waitOut`).
  // `outputs`: a batcher then hands each record only the tensors read here.
  const firstCall: RunOptions = { signal: undefined, fallbackOn, outputs: [outputName, ROW_ERRORS] };
  const maybe = model as unknown as Partial<WithCircuit>;
  const circuit = typeof maybe.stats === 'function' ? (maybe as WithCircuit) : undefined;

  const reportBreaker = (ctx: StageContext): void => {
    if (circuit === undefined || ctx.metrics === undefined) return;
    const s = circuit.stats();
    if (typeof s.name === 'string' && typeof s.circuit === 'string' && BREAKER_STATES.has(s.circuit))
      ctx.metrics.setBreakerState(s.name, s.circuit as 'closed' | 'open' | 'half-open');
  };

  /**
   * One model call over records `lo..hi`, for `waitOut` to repeat. Built by a factory, not bound
   * to a name: tsx (the bench, development) wraps every named closure in a `__name` property
   * write, which cost ~7 % of the event loop per batch in a profile.
   */
  function callOver(
    recs: Envelope<T>[],
    lo: number,
    hi: number,
    packed: TensorLike | undefined,
    ctx: StageContext,
  ) {
    let fresh = packed;
    return async (signal: AbortSignal | undefined): Promise<Record<string, TensorLike>> => {
      // The rows of records lo..hi, packed again after the first call (it may have transferred them).
      const feeds: Record<string, TensorLike> = { [inputName]: fresh ?? pack.range(recs, lo, hi) };
      fresh = undefined;
      const startedAt = performance.now();
      try {
        return await run(feeds, { signal, fallbackOn, outputs: firstCall.outputs });
      } finally {
        // Every call, failed ones included: a timing-out model shows as slow calls, not as none.
        ctx.metrics?.modelCall(name).record(performance.now() - startedAt);
        reportBreaker(ctx);
      }
    };
  }

  /**
   * Scores records `lo..hi` into `out` (ranges with their output, or with the error that sends
   * them to the dead letters). False when the run stopped while the model was unavailable.
   * `failed`: the batch's first call, made by `process`'s fast path, failed with this.
   */
  const score = async (
    recs: Envelope<T>[],
    lo: number,
    hi: number,
    packed: TensorLike | undefined,
    ctx: StageContext,
    out: Scored[],
    budget: { calls: number },
    failed?: { error: unknown },
  ): Promise<boolean> => {
    const call = callOver(recs, lo, hi, packed, ctx);
    let result: Record<string, TensorLike> | typeof STOPPED;
    try {
      if (policy === 'wait')
        result = await waitOut(call, ctx.stopping, backoff, new WaitingGauge(ctx, name, recs.length), failed);
      else if (failed !== undefined) throw failed.error;
      else result = await call(undefined);
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
      out.push({
        lo,
        hi,
        error: new SluiceError('SLUICE_PIPELINE_INFER_FAILED', `inference failed: ${(e as Error).message}`, {
          cause: e,
        }),
      });
      return true;
    }
    if (result === STOPPED) return false;
    out.push({ lo, hi, output: result[outputName], outputName, rowErrors: result[ROW_ERRORS] });
    return true;
  };

  return {
    kind: 'async',
    name,
    async open() {
      checkMapping(model.metadata, {
        inputName,
        outputName,
        width,
        inputType: opts.inputType,
        outputType: opts.outputType,
      });
    },
    async process(batch: Batch, ctx: StageContext) {
      if (batch.records.length === 0) return;
      // A fresh array per call: the runner may keep or transfer it (a batcher holds it until
      // its batch runs).
      const data = pack.batch(batch, name);
      const recs = batch.records as Envelope<T>[];
      if (recs.length === 0) return;
      // Fast path, the first call of every batch: one await and no closures. Through a batcher a
      // batch is often one record, so each layer of async functions (score, waitOut, the call)
      // cost a promise per record: the five layers and their garbage were most of the event
      // loop's time per record in the bench's profile. Failures take the general path below.
      const startedAt = ctx.metrics === undefined ? 0 : performance.now();
      let first: Record<string, TensorLike>;
      let failed: { error: unknown } | undefined;
      try {
        first = await run({ [inputName]: data }, firstCall);
      } catch (error) {
        failed = { error };
        first = {};
      }
      ctx.metrics?.modelCall(name).record(performance.now() - startedAt);
      reportBreaker(ctx);
      if (failed === undefined) {
        const out = first[outputName];
        const rowErrors = first[ROW_ERRORS];
        const n = recs.length;
        applyScores(
          batch,
          name,
          [{ lo: 0, hi: n, output: out, outputName, rowErrors }],
          readRow,
          opts.output as (value: T, row: unknown) => U,
        );
        return;
      }
      const scored: Scored[] = [];
      // the first call may have transferred `data`: the general path packs the rows again
      if (!(await score(recs, 0, recs.length, undefined, ctx, scored, { calls: SPLIT_CALLS }, failed))) {
        // Stopped while the model was down: the batch (and its barrier) goes no further.
        batch.unfinished = true;
        return;
      }
      applyScores(batch, name, scored, readRow, opts.output as (value: T, row: unknown) => U);
    },
  };
}

/** The stage's waiting gauge while `waitOut` waits (a class: no closures per call). */
class WaitingGauge implements WaitHooks {
  constructor(
    private readonly ctx: StageContext,
    private readonly stage: string,
    private readonly records: number,
  ) {}

  waiting(): void {
    this.ctx.metrics?.setWaiting(this.stage, this.records);
  }

  resumed(): void {
    this.ctx.metrics?.setWaiting(this.stage, 0);
  }
}
