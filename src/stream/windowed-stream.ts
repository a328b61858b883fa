import type { KeyedStream } from './pipeline.js';
import { stageName, type StageOptions } from './stage-options.js';
import type { Aggregate, NonMergingAggregate } from './windows/aggregates.js';
import type { FixedWindowAssigner, SessionWindowAssigner, WindowAssigner } from './windows/assigners.js';
import {
  WindowOperator,
  type EmitMode,
  type WindowOptions,
  type WindowResult,
} from './windows/window-operator.js';

/** The result type of a set of aggregates: one field per aggregate. */
export type AggregateResults<A> = {
  [K in keyof A]: A[K] extends { result(acc: never): infer R } ? R : never;
};

/** Builds the window stage; its results keep the window's key, so the stream stays keyed. */
function aggregateStep<T, R>(
  stream: KeyedStream<T>,
  assigner: WindowAssigner,
  opts: WindowOptions & StageOptions,
  aggregates: Record<string, Aggregate<T>>,
  emit: EmitMode,
): KeyedStream<WindowResult<R>> {
  const name = stageName(opts, 'window');
  const op = new WindowOperator<T>(name, assigner, aggregates, emit, opts);
  return stream.withStep<WindowResult<R>>({
    kind: 'sync',
    name,
    needsKey: true,
    stateful: op,
    consumes: true,
    fuseInputs: (inputs) => op.fuseInputs(inputs),
    process: (batch) => op.process(batch),
  });
}

/** A keyed stream grouped into tumbling or hopping windows; `.aggregate()` says what to compute. */
export class WindowedStream<T> {
  /** @internal */
  constructor(
    private readonly stream: KeyedStream<T>,
    private readonly assigner: FixedWindowAssigner,
    private readonly opts: WindowOptions & StageOptions,
  ) {}

  /**
   * Aggregates each window per key. `emit: 'close'` (default) yields one result per window
   * when the watermark passes its end; `'update'` yields the running result on every record.
   * Each result is `{ key, start, end, ...one field per aggregate }`.
   *
   * @example
   * keyed.window(tumbling({ size: minutes(1) })).aggregate({ n: count(), top: max((t) => t.amount) })
   */
  // Accumulator types differ per aggregate and are invariant, so only `any` accepts them all.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  aggregate<A extends Record<string, Aggregate<T, any, any> | NonMergingAggregate<T, any, any>>>(
    aggregates: A,
    opts: { emit?: EmitMode } = {},
  ): KeyedStream<WindowResult<AggregateResults<A>>> {
    const aggs = aggregates as Record<string, Aggregate<T>>; // merge is called for sessions only
    return aggregateStep(this.stream, this.assigner, this.opts, aggs, opts.emit ?? 'close');
  }
}

/**
 * A keyed stream grouped into session windows. Sessions merge when a record bridges two, so
 * `.aggregate()` takes only aggregates that merge (`Aggregate`, not `NonMergingAggregate`):
 * every built-in one, and `reduce(init, add, merge)`.
 */
export class SessionWindowedStream<T> {
  /** @internal */
  constructor(
    private readonly stream: KeyedStream<T>,
    private readonly assigner: SessionWindowAssigner,
    private readonly opts: WindowOptions & StageOptions,
  ) {}

  /**
   * Aggregates each session per key (see `WindowedStream.aggregate`).
   *
   * @example
   * keyed.window(session({ gap: minutes(30) })).aggregate({ n: count(), pages: reduce(() => [] as string[], (a, v) => [...a, v.page], (a, b) => [...a, ...b]) })
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  aggregate<A extends Record<string, Aggregate<T, any, any>>>(
    aggregates: A,
    opts: { emit?: EmitMode } = {},
  ): KeyedStream<WindowResult<AggregateResults<A>>> {
    return aggregateStep(this.stream, this.assigner, this.opts, aggregates, opts.emit ?? 'close');
  }
}
