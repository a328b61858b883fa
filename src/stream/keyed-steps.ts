// The steps of the keyed stages a `KeyedStream` offers, built here to keep pipeline.ts to the DSL.

import type { Envelope, RecordKey } from './envelope.js';
import { requireOption } from './errors.js';
import { IntervalJoinOperator, type IntervalJoinOptions } from './joins/interval-join.js';
import type { Table } from './joins/table.js';
import {
  KeyedProcessOperator,
  type KeyedProcessOptions,
  type KeyedProcessor,
  type ProcessContext,
  type StateHandles,
  type StateSpec,
} from './state/keyed-state.js';
import { stageName, type StageOptions } from './stage-options.js';
import { eachRecord, type SyncStep } from './steps.js';

export interface JoinTableOptions<T, R, U> extends StageOptions {
  /** The table key to look up; default the record's key (`.keyBy()`). */
  key?: (value: T) => RecordKey;
  /** The joined value; `row` is undefined when the table has no row for the key. */
  as: (value: T, row: R | undefined) => U;
}

/** A stream-table join stage: the table's source is its side input, its rows its state. */
export function joinTableStep<T, R, U>(tbl: Table<R>, opts: JoinTableOptions<T, R, U>): SyncStep {
  const name = stageName(opts, `join:${tbl.spec.name}`);
  const keyOf = opts.key;
  return {
    kind: 'sync',
    name,
    needsKey: true,
    stateful: tbl,
    sides: [{ source: tbl.spec.source, apply: (recs) => tbl.apply(recs) }],
    process: (batch) => {
      if (tbl.pendingDeadLetters.length > 0) {
        // Bad table rows are accounted with this batch so that nothing is lost or uncounted.
        batch.size += tbl.pendingDeadLetters.length;
        batch.deadLetters.push(...tbl.pendingDeadLetters.splice(0));
      }
      eachRecord(batch, name, (env) => {
        const key = keyOf !== undefined ? keyOf(env.value as T) : (env as Envelope<T>).key!;
        env.value = opts.as(env.value as T, tbl.get(key));
        return true;
      });
    },
  };
}

/** An interval join stage (see `IntervalJoinOperator`). */
export function intervalJoinStep<T, U>(opts: IntervalJoinOptions<T, U>): SyncStep {
  const name = stageName(opts, 'intervalJoin');
  const op = new IntervalJoinOperator<T, U>(name, opts);
  return { kind: 'sync', name, needsKey: true, stateful: op, process: (batch) => op.process(batch) };
}

/** `.withState()`: the function's return value, unless undefined, goes on in place of the record. */
export function withStateStep<T, U, S extends Record<string, StateSpec>>(
  state: S,
  fn: (value: T, state: StateHandles<S>, env: Envelope<T>) => U | undefined,
  opts: KeyedProcessOptions & StageOptions,
): SyncStep {
  const name = stageName(opts, 'state');
  const op = new KeyedProcessOperator<T, U, S>(name, state, { map: fn }, opts);
  return { kind: 'sync', name, needsKey: true, stateful: op, process: (batch) => op.process(batch) };
}

/** `.process()`: a processor's outputs (yielded, or an array returned) go on in order. */
export function processStep<T, U, S extends Record<string, StateSpec>>(
  processor: KeyedProcessor<T, U, S>,
): SyncStep {
  requireOption(
    typeof processor === 'object' && processor !== null && typeof processor.onRecord === 'function',
    'process() takes a processor { name, state, onRecord(value, ctx) }; for an async stage over batches use .mapBatch(fn, { name })',
  );
  const name = stageName(processor, 'process');
  const onRecord = processor.onRecord.bind(processor);
  const emitAll = (value: T, ctx: ProcessContext<S> & { emit(v: U): void }) =>
    emitOutputs(onRecord(value, ctx), ctx);
  const onTimer = processor.onTimer?.bind(processor);
  const op = new KeyedProcessOperator<T, U, S>(name, processor.state, emitAll, processor, {
    onStart: processor.onStart?.bind(processor),
    beforeCheckpoint: processor.beforeCheckpoint?.bind(processor),
    onTimer: onTimer && ((time, ctx) => emitOutputs(onTimer(time, ctx), ctx)),
    outOfOrderness: processor.outOfOrderness,
    idleTimeoutMs: processor.idleTimeoutMs,
  });
  return { kind: 'sync', name, needsKey: true, stateful: op, process: (batch) => op.process(batch) };
}

/** Sends on what a processor's function yielded or returned. */
function emitOutputs<U>(outs: Iterable<U> | void, ctx: { emit(v: U): void }): void {
  if (outs === undefined) return;
  // An array without an iterator object per record; generators as they come.
  if (Array.isArray(outs)) for (let i = 0; i < outs.length; i++) ctx.emit(outs[i] as U);
  else for (const u of outs as Iterable<U>) ctx.emit(u);
}
