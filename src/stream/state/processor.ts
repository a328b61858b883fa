// The public shape of a custom stateful operator (`KeyedStream.process()`); the operator that
// runs it is KeyedProcessOperator (keyed-state.ts).

import type { RecordKey } from '../envelope.js';
import type { KeyedProcessOptions, StateHandles, StateSpec } from './keyed-state.js';

/** What `onRecord` is given besides the record's value: its key, event time and state. */
export interface ProcessContext<S> {
  /** The record's key (set by `.keyBy()`). */
  readonly key: RecordKey;
  /** The record's event time, epoch ms. */
  readonly eventTime: number;
  /** The state declared in `state`, bound to this record's key: never keep it across calls. */
  readonly state: StateHandles<S>;
  /** The input's event-time watermark (kept when the processor has `onTimer`; else -Infinity). */
  readonly watermark: number;
  /**
   * Calls `onTimer(time, ctx)` for this key once the watermark passes `time` (event time, ms):
   * at the end of the batch in which it does, or when a bounded input ends. One timer per key
   * and time; pending timers are state, checkpointed and restored.
   */
  setTimer(time: number): void;
}

/** The operator's own context: a processor's plus where the outputs go. */
export interface EmitContext<U, S> extends ProcessContext<S> {
  key: RecordKey;
  eventTime: number;
  watermark: number;
  emit(value: U): void;
}

/** Every key's state, for the start and checkpoint hooks of a processor. */
export interface KeyedStateView<S> {
  /** Every key that has state (in memory or only in the store). */
  keys(): RecordKey[];
  /** The state of `key`; the handles stay bound to it until the next `of()` call. */
  of(key: RecordKey): StateHandles<S>;
}

/**
 * A custom stateful operator for `.process()` on a keyed stream: per-key state declared with
 * `valueState`/`listState`/`mapState`, checkpointed with the source offsets like every keyed
 * stage's, and restored on restart.
 *
 * @example
 * stream.keyBy((t) => t.cardId).process({
 *   name: 'first-seen',
 *   state: { first: valueState<number>() },
 *   *onRecord(t, ctx) {
 *     if (ctx.state.first.get() === undefined) { ctx.state.first.set(ctx.eventTime); yield { card: t.cardId, at: ctx.eventTime }; }
 *   },
 * });
 */
export interface KeyedProcessor<T, U, S extends Record<string, StateSpec>> extends KeyedProcessOptions {
  /** The stage's name (metrics, dead letters, and its state's namespace). Default `process`. */
  name?: string;
  state: S;
  /**
   * Called per record: yields (a generator) or returns (an array) the values to send on, any
   * number of them; nothing drops the record. A throw sends the record to the dead letters
   * and sends nothing on for it; its state changes before the throw are kept.
   */
  onRecord(value: T, ctx: ProcessContext<S>): Iterable<U> | void;
  /** Called once before the first record, after the state was restored from the checkpoint. */
  onStart?(state: KeyedStateView<S>): void;
  /**
   * Called for a key's timer (`ctx.setTimer`) once the watermark passes its time, with the
   * key's state; yields or returns values to send on, as `onRecord` does. A throw sends a dead
   * letter naming the key and time.
   */
  onTimer?(time: number, ctx: ProcessContext<S>): Iterable<U> | void;
  /** How far behind the newest event time a record may arrive (the watermark); default 0. */
  outOfOrderness?: number;
  /** A source partition silent this long stops holding the watermark back; default 10 s. */
  idleTimeoutMs?: number;
  /**
   * Called at each checkpoint barrier, before the state changes are handed over: the place to
   * write state that is costly to write per record (a snapshot of an outside model). Not
   * called when the run keeps no checkpoints.
   */
  beforeCheckpoint?(state: KeyedStateView<S>): void;
}
