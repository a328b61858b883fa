import type { Decoder } from './decode.js';
import type { Envelope, RecordKey } from './envelope.js';
import { requireOption, SluiceError } from './errors.js';
import { inferStep, type InferOptions } from './infer-step.js';
import type { InferTensorKind } from './infer-tensors.js';
import type { ModelLike, Sink, Source } from './interfaces.js';
import {
  intervalJoinStep,
  joinTableStep,
  processStep,
  withStateStep,
  type JoinTableOptions,
} from './keyed-steps.js';
import { checkKeyedStages, RunnablePipeline } from './runnable.js';
import { stageName, type StageOptions } from './stage-options.js';
import {
  decodeValues,
  eachRecord,
  setEventTimes,
  setFeatures,
  setKeys,
  type AsyncStep,
  type Batch,
  type Step,
} from './steps.js';
import { LookbackFeatures, type LookbackSpec } from './windows/lookback.js';
import type { Table } from './joins/table.js';
import type { IntervalJoinOptions } from './joins/interval-join.js';
import type { KeyedProcessOptions, KeyedProcessor, StateHandles, StateSpec } from './state/keyed-state.js';
import type { FixedWindowAssigner, SessionWindowAssigner, WindowAssigner } from './windows/assigners.js';
import type { WindowOptions } from './windows/window-operator.js';
import { SessionWindowedStream, WindowedStream } from './windowed-stream.js';

export { RunnablePipeline } from './runnable.js';
export { WindowedStream, SessionWindowedStream, type AggregateResults } from './windowed-stream.js';
export type { StageOptions } from './stage-options.js';

/** What `.features()` adds to each record. */
export interface WithFeatures {
  features: Float64Array;
}

/**
 * A typed chain of stages. Each call returns a new stream whose type is the records' type
 * after that stage, so the editor shows what is legal where. Stages that work per key
 * (windows, keyed state, joins, `.process()`) are on `KeyedStream`, which `.keyBy()` returns.
 * Every stage takes its name, where it has one, as `{ name }` in its last argument.
 */
export class Stream<T> {
  /** @internal */
  constructor(
    readonly name: string,
    readonly source: Source<unknown>,
    readonly steps: readonly Step[],
    /** Names of the columns of `features`, once `.features()` ran. */
    readonly featureNames: readonly string[] = [],
  ) {}

  /** @internal Appends a stage; the stream it returns is of the same kind (keyed or not). */
  withStep<U>(step: Step, featureNames = this.featureNames): Stream<U> {
    return new Stream<U>(this.name, this.source, [...this.steps, step], featureNames);
  }

  /** Decodes raw values (e.g. bytes from a log); failures go to the dead letters with the reason. */
  decode<U>(decoder: Decoder<U>): Stream<U> {
    const stage = `decode`;
    const decodeAll = (batch: Batch) => decodeValues(batch, stage, decoder);
    // A decoder that loads schemas first runs as an async stage (its own queue), once per batch.
    if (decoder.prepare !== undefined)
      return this.withStep<U>({
        kind: 'async',
        name: stage,
        process: async (batch, ctx) => {
          const values = batch.records.map((env) => env.value);
          if (!(await decoder.prepare!(values, ctx.stopping))) batch.unfinished = true;
          else decodeAll(batch);
        },
      });
    return this.withStep<U>({ kind: 'sync', name: stage, passive: true, process: decodeAll });
  }

  /** Keeps the records for which `predicate` is true; the others count as processed. */
  filter(predicate: (value: T, env: Envelope<T>) => boolean, opts?: StageOptions): Stream<T> {
    const name = stageName(opts, 'filter');
    return this.withStep<T>({
      kind: 'sync',
      name,
      process: (batch) => eachRecord(batch, name, (env) => predicate(env.value as T, env as Envelope<T>)),
    });
  }

  /** Replaces each value; a throw sends that record to the dead letters. */
  map<U>(fn: (value: T, env: Envelope<T>) => U, opts?: StageOptions): Stream<U> {
    const name = stageName(opts, 'map');
    return this.withStep<U>({
      kind: 'sync',
      name,
      process: (batch) =>
        eachRecord(batch, name, (env) => {
          env.value = fn(env.value as T, env as Envelope<T>);
          return true;
        }),
    });
  }

  /**
   * Sets each record's key and returns a `KeyedStream`, the only kind of stream with the
   * stages that work per key: windows, keyed state, joins, custom operators (`.process()`).
   *
   * @example
   * stream.keyBy((t) => t.cardId).window(tumbling({ size: minutes(1) })).aggregate({ n: count() });
   */
  keyBy(fn: (value: T) => RecordKey, opts?: StageOptions): KeyedStream<T> {
    const name = stageName(opts, 'keyBy');
    const step: Step = {
      kind: 'sync',
      name,
      setsKey: true,
      passive: true,
      keyOf: fn as (value: unknown) => RecordKey,
      process: (batch) => setKeys(batch, name, fn as (value: unknown) => RecordKey),
    };
    return new KeyedStream<T>(this.name, this.source, [...this.steps, step], this.featureNames);
  }

  /** Takes event time (epoch ms) from the record instead of the log append time. */
  eventTime(fn: (value: T) => number, opts?: StageOptions): Stream<T> {
    const name = stageName(opts, 'eventTime');
    return this.withStep<T>({
      kind: 'sync',
      name,
      passive: true,
      eventTimeOf: fn as (value: unknown) => number,
      process: (batch) => setEventTimes(batch, name, fn as (value: unknown) => number),
    });
  }

  /**
   * Computes windowed features per record (see `lookback`) and attaches them as
   * `value.features`, a Float64Array whose columns are named by `featureNames`.
   */
  features(specs: Record<string, LookbackSpec<T>>, opts?: StageOptions): Stream<T & WithFeatures> {
    const name = stageName(opts, 'features');
    const op = new LookbackFeatures<T>(specs);
    return this.withStep<T & WithFeatures>(
      {
        kind: 'sync',
        name,
        stateful: op,
        process: (batch) => setFeatures(batch, name, op as LookbackFeatures<unknown>),
      },
      [...this.featureNames, ...op.names],
    );
  }

  /**
   * Scores each batch of records with a model (one call per batch). While the model is down the
   * stage waits by default (`onUnavailable: 'wait'`): the source pauses and no checkpoint passes
   * the held records; `'deadLetter'` and `'fallback'` choose otherwise (see docs/inference.md).
   *
   * @example
   * .infer(model, { width: 3, input: (t) => t.features, output: (t, row) => ({ ...t, score: row[0]! }), onUnavailable: 'wait' })
   * .infer(llm, { inputType: 'json', outputType: 'json', input: (a) => a, output: (a, [why]) => ({ ...a, why }) })
   */
  infer<U, I extends InferTensorKind = 'float32', O extends InferTensorKind = 'float32'>(
    model: ModelLike,
    opts: InferOptions<T, U, I, O>,
  ): Stream<U> {
    return this.withStep<U>(inferStep(model, opts));
  }

  /**
   * Adds a custom async stage over whole batches of values (e.g. a lookup service): `fn` gets
   * the batch's values and resolves to one new value per record, in order.
   *
   * @example
   * stream.mapBatch(async (ids) => lookup.getMany(ids), { name: 'lookup' })
   */
  mapBatch<U>(fn: (values: T[]) => Promise<U[]>, opts?: StageOptions): Stream<U> {
    requireOption(
      typeof fn === 'function',
      `mapBatch(fn, { name }) takes the function first` +
        (typeof fn === 'string' ? `: write { name: ${JSON.stringify(fn)} } after it` : ''),
    );
    const name = stageName(opts, 'mapBatch');
    const step: AsyncStep = {
      kind: 'async',
      name,
      async process(batch) {
        const out = await fn(batch.records.map((e) => e.value as T));
        requireOption(
          out.length === batch.records.length,
          `${name}: returned ${out.length} values for ${batch.records.length} records`,
        );
        for (let i = 0; i < out.length; i++) batch.records[i]!.value = out[i];
      },
    };
    return this.withStep<U>(step);
  }

  /** Ends the chain with a sink; returns the runnable pipeline (refused if a stage needs a key it lacks). */
  to(sink: Sink<T>): RunnablePipeline<T> {
    checkKeyedStages(this.steps);
    return new RunnablePipeline<T>(this.name, this.source, this.steps, sink, this.featureNames);
  }
}

/**
 * A stream whose records have keys (`.keyBy()`): it adds the stages that work per key. Stages
 * that keep the key (filter, map, eventTime, infer, ...) return a `KeyedStream` again.
 *
 * @example
 * pipeline('cards').from(source).keyBy((t) => t.cardId)
 *   .window(tumbling({ size: minutes(1) })).aggregate({ n: count() });
 */
export class KeyedStream<T> extends Stream<T> {
  override withStep<U>(step: Step, featureNames = this.featureNames): KeyedStream<U> {
    return new KeyedStream<U>(this.name, this.source, [...this.steps, step], featureNames);
  }

  override decode<U>(decoder: Decoder<U>): KeyedStream<U> {
    return super.decode(decoder) as KeyedStream<U>;
  }
  override filter(predicate: (value: T, env: Envelope<T>) => boolean, opts?: StageOptions): KeyedStream<T> {
    return super.filter(predicate, opts) as KeyedStream<T>;
  }
  override map<U>(fn: (value: T, env: Envelope<T>) => U, opts?: StageOptions): KeyedStream<U> {
    return super.map(fn, opts) as KeyedStream<U>;
  }
  override eventTime(fn: (value: T) => number, opts?: StageOptions): KeyedStream<T> {
    return super.eventTime(fn, opts) as KeyedStream<T>;
  }
  override features(
    specs: Record<string, LookbackSpec<T>>,
    opts?: StageOptions,
  ): KeyedStream<T & WithFeatures> {
    return super.features(specs, opts) as KeyedStream<T & WithFeatures>;
  }
  override infer<U, I extends InferTensorKind = 'float32', O extends InferTensorKind = 'float32'>(
    model: ModelLike,
    opts: InferOptions<T, U, I, O>,
  ): KeyedStream<U> {
    return super.infer(model, opts) as KeyedStream<U>;
  }
  override mapBatch<U>(fn: (values: T[]) => Promise<U[]>, opts?: StageOptions): KeyedStream<U> {
    return super.mapBatch(fn, opts) as KeyedStream<U>;
  }

  /**
   * Groups records into event-time windows per key; `.aggregate()` then says what to compute.
   * Watermarks come from the records' event times (see docs/stream.md#windows for the
   * options, the result shape and late records). Session windows take only aggregates that
   * merge (`MergeableAggregate`: every built-in one, and `reduce` given a merge).
   *
   * @example
   * stream.keyBy((t) => t.cardId).window(tumbling({ size: minutes(1) }), { outOfOrderness: seconds(5) })
   *   .aggregate({ n: count(), total: sum((t) => t.amount) });
   */
  window(assigner: SessionWindowAssigner, opts?: WindowOptions & StageOptions): SessionWindowedStream<T>;
  window(assigner: FixedWindowAssigner, opts?: WindowOptions & StageOptions): WindowedStream<T>;
  /** An assigner of any kind: it may be a session one, so its aggregates must merge. */
  window(assigner: WindowAssigner, opts?: WindowOptions & StageOptions): SessionWindowedStream<T>;
  window(
    assigner: WindowAssigner,
    opts: WindowOptions & StageOptions = {},
  ): WindowedStream<T> | SessionWindowedStream<T> {
    return assigner.kind === 'session'
      ? new SessionWindowedStream<T>(this, assigner, opts)
      : new WindowedStream<T>(this, assigner, opts);
  }

  /**
   * Runs `fn` per record with the state of its key (declare it with valueState/listState/
   * mapState); the state is checkpointed with the source offsets. Return the next value, or
   * undefined to drop the record. For more than one output per record, or hooks at start and
   * at checkpoints, write a processor (`.process()`).
   *
   * @example
   * stream.keyBy((t) => t.cardId).withState({ seen: valueState<number>() }, (t, s) => {
   *   const n = (s.seen.get() ?? 0) + 1; s.seen.set(n); return { ...t, nth: n };
   * }, { ttl: days(30) });
   */
  withState<S extends Record<string, StateSpec>, U>(
    state: S,
    fn: (value: T, state: StateHandles<S>, env: Envelope<T>) => U | undefined,
    opts: KeyedProcessOptions & StageOptions = {},
  ): KeyedStream<U> {
    return this.withStep<U>(withStateStep(state, fn, opts));
  }

  /**
   * A custom stateful operator: `onRecord(value, ctx)` runs per record with the state of its
   * key (`ctx.state`) and yields any number of values (a generator; or returns an array); `onStart` and
   * `beforeCheckpoint` see every key's state. The state is checkpointed with the source
   * offsets and restored on restart, like every keyed stage's.
   *
   * @example
   * stream.keyBy((r) => r.sensor).process({
   *   name: 'jumps',
   *   state: { last: valueState<number>() },
   *   *onRecord(r, ctx) {
   *     const prev = ctx.state.last.get();
   *     ctx.state.last.set(r.value);
   *     if (prev !== undefined && Math.abs(r.value - prev) > 10) yield { sensor: ctx.key, from: prev, to: r.value };
   *   },
   * });
   */
  process<S extends Record<string, StateSpec>, U>(processor: KeyedProcessor<T, U, S>): KeyedStream<U> {
    return this.withStep<U>(processStep(processor));
  }

  /**
   * Enriches each record with the latest row of a keyed table fed by another source (see
   * `table()`), looked up by the record's key (or by `key` when given); `as` receives undefined
   * when the table has no row for the key.
   */
  joinTable<R, U>(tbl: Table<R>, opts: JoinTableOptions<T, R, U>): KeyedStream<U> {
    return this.withStep<U>(joinTableStep(tbl, opts));
  }

  /**
   * Joins the stream with itself across two record kinds (e.g. two topics merged with
   * `mergeSources`): per key, each left record pairs with each right record whose event time
   * is within `within` ms.
   */
  intervalJoin<U>(opts: IntervalJoinOptions<T, U>): KeyedStream<U> {
    return this.withStep<U>(intervalJoinStep(opts));
  }
}

// JavaScript callers reach keyed stages on an unkeyed stream too: they get a SluiceError that
// says what to do, when the pipeline is built, instead of `... is not a function`.
for (const method of ['window', 'withState', 'process', 'joinTable', 'intervalJoin'] as const) {
  Object.defineProperty(Stream.prototype, method, {
    configurable: true,
    writable: true,
    value(): never {
      throw new SluiceError(
        'SLUICE_PIPELINE_INVALID',
        `.${method}() works per key: call .keyBy(fn) before it` +
          (method === 'process' ? ' (for an async stage over batches, use .mapBatch(fn, { name }))' : ''),
      );
    },
  });
}

/**
 * Starts a pipeline definition.
 *
 * @example
 * const run = pipeline('fraud')
 *   .from(logSource({ log, topic: 'transactions' }))
 *   .decode(json({ id: 'integer', ts: 'number', customerId: 'integer', amount: 'number' }))
 *   .filter((t) => t.amount > 0)
 *   .eventTime((t) => t.ts)
 *   .features({ customer: lookback({ key: (t) => t.customerId, windows: [days(1), days(7)], aggregate: { n: count(), avg: mean((t) => t.amount) } }) })
 *   .infer(model, { width: 4, input: (t) => t.features, output: (t, s) => ({ ...t, score: s[0]! }) })
 *   .to(collect())
 *   .run();
 * console.log(await run.done);
 */
export function pipeline(name: string): { from<S>(source: Source<S>): Stream<S> } {
  requireOption(
    /^[A-Za-z0-9._-]{1,100}$/.test(name),
    `pipeline name "${name}" must be 1-100 characters of letters, digits, ".", "_" or "-"`,
  );
  return { from: <S>(source: Source<S>) => new Stream<S>(name, source as Source<unknown>, []) };
}
