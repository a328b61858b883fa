import type { Decoder } from './decode.js';
import type { Envelope, RecordKey } from './envelope.js';
import { requireOption } from './errors.js';
import { inferStep, type InferOptions } from './infer-step.js';
import type { InferTensorKind } from './infer-tensors.js';
import type { ModelLike, Sink, Source } from './interfaces.js';
import { PipelineRun, type RunOptions } from './runtime.js';
import { eachRecord, setEventTimes, setKeys, type AsyncStep, type Batch, type Step } from './steps.js';
import { LookbackFeatures, type LookbackSpec } from './windows/lookback.js';
import type { Aggregate } from './windows/aggregates.js';
import type { Table } from './joins/table.js';
import { IntervalJoinOperator, type IntervalJoinOptions } from './joins/interval-join.js';
import {
  KeyedProcessOperator,
  type KeyedProcessOptions,
  type StateHandles,
  type StateSpec,
} from './state/keyed-state.js';
import type { WindowAssigner } from './windows/assigners.js';
import {
  WindowOperator,
  type EmitMode,
  type WindowOptions,
  type WindowResult,
} from './windows/window-operator.js';

/** The result type of a set of aggregates: one field per aggregate. */
export type AggregateResults<A> = {
  [K in keyof A]: A[K] extends Aggregate<never, unknown, infer R> ? R : never;
};

/** A stream grouped into windows; `.aggregate()` says what to compute per window. */
export class WindowedStream<T> {
  /** @internal */
  constructor(
    private readonly stream: Stream<T>,
    private readonly assigner: WindowAssigner,
    private readonly opts: WindowOptions & { name?: string },
  ) {}

  /**
   * Aggregates each window per key. `emit: 'close'` (default) yields one result per window
   * when the watermark passes its end; `'update'` yields the running result on every record.
   */
  // Accumulator types differ per aggregate and are invariant, so only `any` accepts them all.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  aggregate<A extends Record<string, Aggregate<T, any, any>>>(
    aggregates: A,
    opts: { emit?: EmitMode } = {},
  ): Stream<WindowResult<AggregateResults<A>>> {
    const name = this.opts.name ?? 'window';
    const op = new WindowOperator<T>(
      name,
      this.assigner,
      aggregates as Record<string, Aggregate<T>>,
      opts.emit ?? 'close',
      this.opts,
    );
    return this.stream.withStep<WindowResult<AggregateResults<A>>>({
      kind: 'sync',
      name,
      stateful: op,
      consumes: true,
      fuseInputs: (inputs) => op.fuseInputs(inputs),
      process: (batch) => op.process(batch),
    });
  }
}

/** What `.features()` adds to each record. */
export interface WithFeatures {
  features: Float64Array;
}

/**
 * A typed chain of stages. Each call returns a new stream whose type is the records' type
 * after that stage, so the editor shows what is legal where.
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

  /** @internal Appends a stage; used by the typed stream wrappers. */
  withStep<U>(step: Step, featureNames = this.featureNames): Stream<U> {
    return this.with<U>(step, featureNames);
  }

  private with<U>(step: Step, featureNames = this.featureNames): Stream<U> {
    return new Stream<U>(this.name, this.source, [...this.steps, step], featureNames);
  }

  /** Decodes raw values (e.g. bytes from a log); failures go to the dead letters with the reason. */
  decode<U>(decoder: Decoder<U>): Stream<U> {
    const stage = `decode`;
    const decodeAll = (batch: Batch) =>
      eachRecord(batch, stage, (env) => {
        env.value = decoder.decode(env.value);
        return true;
      });
    // A decoder that loads schemas first runs as an async stage (its own queue), once per batch.
    if (decoder.prepare !== undefined)
      return this.with<U>({
        kind: 'async',
        name: stage,
        process: async (batch, ctx) => {
          const values = batch.records.map((env) => env.value);
          if (!(await decoder.prepare!(values, ctx.stopping))) batch.unfinished = true;
          else decodeAll(batch);
        },
      });
    return this.with<U>({
      kind: 'sync',
      name: stage,
      passive: true,
      process: decodeAll,
    });
  }

  /** Keeps the records for which `predicate` is true; the others count as processed. */
  filter(predicate: (value: T, env: Envelope<T>) => boolean, name = 'filter'): Stream<T> {
    return this.with<T>({
      kind: 'sync',
      name,
      process: (batch) => eachRecord(batch, name, (env) => predicate(env.value as T, env as Envelope<T>)),
    });
  }

  /** Replaces each value; a throw sends that record to the dead letters. */
  map<U>(fn: (value: T, env: Envelope<T>) => U, name = 'map'): Stream<U> {
    return this.with<U>({
      kind: 'sync',
      name,
      process: (batch) =>
        eachRecord(batch, name, (env) => {
          env.value = fn(env.value as T, env as Envelope<T>);
          return true;
        }),
    });
  }

  /** Sets each record's key (used by keyed state and by sinks that partition). */
  keyBy(fn: (value: T) => RecordKey, name = 'keyBy'): Stream<T> {
    return this.with<T>({
      kind: 'sync',
      name,
      setsKey: true,
      passive: true,
      keyOf: fn as (value: unknown) => RecordKey,
      process: (batch) => setKeys(batch, name, fn as (value: unknown) => RecordKey),
    });
  }

  /** Takes event time (epoch ms) from the record instead of the log append time. */
  eventTime(fn: (value: T) => number, name = 'eventTime'): Stream<T> {
    return this.with<T>({
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
  features(specs: Record<string, LookbackSpec<T>>, name = 'features'): Stream<T & WithFeatures> {
    const op = new LookbackFeatures<T>(specs);
    return this.with<T & WithFeatures>(
      {
        kind: 'sync',
        name,
        stateful: op,
        process: (batch) =>
          eachRecord(batch, name, (env) => {
            (env.value as T & WithFeatures).features = op.apply(env as Envelope<T>);
            return true;
          }),
      },
      [...this.featureNames, ...op.names],
    );
  }

  /**
   * Groups records into event-time windows per key (set the key with `.keyBy()` first; without
   * one all records share a key). Watermarks come from the records' event times.
   *
   * @example
   * stream.keyBy((t) => t.cardId).window(tumbling({ size: minutes(1) }), { outOfOrderness: seconds(5) })
   *   .aggregate({ n: count(), total: sum((t) => t.amount) });
   */
  window(assigner: WindowAssigner, opts: WindowOptions & { name?: string } = {}): WindowedStream<T> {
    return new WindowedStream<T>(this, assigner, opts);
  }

  /**
   * Runs `fn` per record with per-key state (declare it with valueState/listState/mapState);
   * the state is checkpointed with the source offsets. Return the next value, or undefined to
   * drop the record.
   *
   * @example
   * stream.keyBy((t) => t.cardId).withState({ seen: valueState<number>() }, (t, s) => {
   *   const n = (s.seen.get() ?? 0) + 1; s.seen.set(n); return { ...t, nth: n };
   * }, { ttl: days(30) });
   */
  withState<S extends Record<string, StateSpec>, U>(
    state: S,
    fn: (value: T, state: StateHandles<S>, env: Envelope<T>) => U | undefined,
    opts: KeyedProcessOptions & { name?: string } = {},
  ): Stream<U> {
    const name = opts.name ?? 'state';
    const op = new KeyedProcessOperator<T, U, S>(name, state, fn, opts);
    return this.with<U>({ kind: 'sync', name, stateful: op, process: (batch) => op.process(batch) });
  }

  /**
   * Enriches each record with the latest row of a keyed table fed by another source (see
   * `table()`); `as` receives undefined when the table has no row for the key.
   */
  joinTable<R, U>(
    tbl: Table<R>,
    opts: { key: (value: T) => RecordKey; as: (value: T, row: R | undefined) => U; name?: string },
  ): Stream<U> {
    const name = opts.name ?? `join:${tbl.spec.name}`;
    return this.with<U>({
      kind: 'sync',
      name,
      stateful: tbl,
      sides: [{ source: tbl.spec.source, apply: (recs) => tbl.apply(recs) }],
      process: (batch) => {
        if (tbl.pendingDeadLetters.length > 0) {
          // Bad table rows are accounted with this batch so that nothing is lost or uncounted.
          batch.size += tbl.pendingDeadLetters.length;
          batch.deadLetters.push(...tbl.pendingDeadLetters.splice(0));
        }
        eachRecord(batch, name, (env) => {
          env.value = opts.as(env.value as T, tbl.get(opts.key(env.value as T)));
          return true;
        });
      },
    });
  }

  /**
   * Joins the stream with itself across two record kinds (e.g. two topics merged with
   * `mergeSources`): per key, each left record pairs with each right record whose event time
   * is within `within` ms.
   */
  intervalJoin<U>(opts: IntervalJoinOptions<T, U>): Stream<U> {
    const name = opts.name ?? 'intervalJoin';
    const op = new IntervalJoinOperator<T, U>(name, opts);
    return this.with<U>({ kind: 'sync', name, stateful: op, process: (batch) => op.process(batch) });
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
    return this.with<U>(inferStep(model, opts));
  }

  /** Adds a custom async stage over whole batches of values (e.g. a lookup service). */
  process<U>(name: string, fn: (values: T[]) => Promise<U[]>): Stream<U> {
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
    return this.with<U>(step);
  }

  /** Ends the chain with a sink; returns the runnable pipeline. */
  to(sink: Sink<T>): RunnablePipeline<T> {
    return new RunnablePipeline<T>(this.name, this.source, this.steps, sink, this.featureNames);
  }
}

/** A complete pipeline: call `run()` to start it. */
export class RunnablePipeline<T> {
  /** @internal */
  constructor(
    readonly name: string,
    readonly source: Source<unknown>,
    readonly steps: readonly Step[],
    readonly sink: Sink<T>,
    readonly featureNames: readonly string[],
  ) {}

  /** Starts the pipeline; await `.done` for the summary, call `.stop()` to end it early. */
  run(opts: RunOptions = {}): PipelineRun {
    return new PipelineRun(this.name, this.source, this.steps, this.sink as Sink<unknown>, opts);
  }
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
