// The steps of the joins a `KeyedStream` offers, built here to keep pipeline.ts to the DSL.

import type { Envelope, RecordKey } from './envelope.js';
import { IntervalJoinOperator, type IntervalJoinOptions } from './joins/interval-join.js';
import type { Table } from './joins/table.js';
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
