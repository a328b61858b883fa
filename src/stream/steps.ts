import { SluiceError } from '../core/errors.js';
import type { RecordTrace } from '../observe/index.js';
import type { DeadLetter, Envelope, RecordKey } from './envelope.js';
import type { Source, Stateful, StageContext } from './interfaces.js';
import type { StateChange } from './state/store.js';

/** A checkpoint travelling with a batch: completed when that batch has passed the last stage. */
export interface Barrier {
  id: number;
  offsets: Record<string, number>;
  changes: StateChange[];
}

/** Records moving together through the stages. */
export interface Batch {
  records: Envelope[];
  deadLetters: DeadLetter[];
  /** Records that arrived after their windows closed: routed to the late output, counted. */
  late?: DeadLetter[];
  /** Records read from the source for this batch (dropped and dead ones included). */
  size: number;
  barrier?: Barrier;
  /** Set on the last batch of a bounded source that ended (not on a stop): windows flush. */
  endOfInput?: boolean;
  /** Set when the source declared event time complete up to here (`Source.watermark`). */
  watermark?: number;
  /**
   * Set by a stage that could not finish the batch before a stop (the infer stage waiting for a
   * model that is down): the runtime drops it and every batch after it, and saves no checkpoint
   * past it, so its records are read again when the run resumes.
   */
  unfinished?: boolean;
  /**
   * True while every record shares `records[0].stamps`: set from `Source.sharesStamps`, kept by
   * passive stages, cleared by the runtime before any other stage, which may set it again when
   * its output shares one array (window results). Lets a stage be stamped in O(1).
   */
  sharedStamps?: boolean;
  /** The traces of the batch's sampled records (tracing on); their spans end with the batch. */
  traces?: RecordTrace[];
}

/** A stage that runs synchronously on a batch; consecutive ones run fused in one loop. */
export interface SyncStep {
  kind: 'sync';
  name: string;
  stateful?: Stateful;
  /** Set by `.keyBy()`: a scaled-out run repartitions the stream here (by the key it sets). */
  setsKey?: boolean;
  /**
   * Set by stages that work per key (windows, keyed state, joins): a pipeline whose stages put
   * no `.keyBy()` before one is refused when it is built (`.to()`), not record by record.
   */
  needsKey?: boolean;
  /** Inputs the stage reads besides the stream (a table's changelog), polled between batches. */
  sides?: SideInput[];
  /**
   * Set where the stage only reads and sets fields of the batch's envelopes, keeps no reference
   * to them and hands none to user code (which sees values only): `eventTime`, `keyBy`, `decode`.
   */
  passive?: boolean;
  /**
   * Set where the stage replaces the batch's records with envelopes of its own (window results)
   * and keeps no reference to those it got. After passive stages only, the runtime then gives
   * the source's envelopes back to it (`Source.recycle`) once the batch has passed this stage.
   */
  consumes?: boolean;
  /** Set by `.eventTime()`: the function it applies, so a window right after can fuse it. */
  eventTimeOf?: (value: unknown) => number;
  /** Set by `.keyBy()`: the function it applies, so a window right after can fuse it. */
  keyOf?: (value: unknown) => RecordKey;
  /**
   * Set by stages that can do the work of the `eventTime`/`keyBy` stages right before them in
   * their own loop (see `fuse.ts`); called at the start of every run, with undefined when none.
   */
  fuseInputs?(inputs: FusedInputs | undefined): void;
  process(batch: Batch): void;
}

/** The `eventTime` and `keyBy` stages a window runs in its own loop, with their stage names. */
export interface FusedInputs {
  eventTime?: { fn: (value: unknown) => number; stage: string };
  key?: { fn: (value: unknown) => RecordKey; stage: string };
}

/** A secondary input of a stage: the runtime opens it, resumes it from checkpoints, feeds `apply`. */
export interface SideInput {
  source: Source<unknown>;
  apply(records: Envelope[]): void;
}

/** A stage that awaits something per batch (a model, a database): it gets its own queue. */
export interface AsyncStep {
  kind: 'async';
  name: string;
  open?(ctx: StageContext): Promise<void>;
  process(batch: Batch, ctx: StageContext): Promise<void>;
  /** Makes this stage's effects durable before a checkpoint is saved. */
  flush?(): Promise<void> | void;
  close?(): Promise<void>;
}

export type Step = SyncStep | AsyncStep;

/** Moves a record to the batch's dead letters with the reason. */
export function deadLetter(
  batch: Batch,
  env: Envelope,
  stage: string,
  error: unknown,
  original: unknown,
): void {
  batch.deadLetters.push({
    stage,
    reason: error instanceof Error ? error.message : String(error),
    original,
    topic: env.topic,
    partition: env.partition,
    offset: env.offset,
    time: Date.now(),
  });
}

/**
 * Runs `fn` on each record; records for which it throws go to the dead letters, the rest are
 * kept (or dropped when `fn` returns false), compacting the batch in place.
 */
export function eachRecord(batch: Batch, stage: string, fn: (env: Envelope) => boolean): void {
  compactFrom(batch, stage, fn, 0);
}

/** `eachRecord` over the records from index `from` on (those before it are kept as they are). */
function compactFrom(batch: Batch, stage: string, fn: (env: Envelope) => boolean, from: number): void {
  const recs = batch.records;
  let kept = from;
  for (let i = from; i < recs.length; i++) {
    const env = recs[i]!;
    const original = env.value;
    let keep: boolean;
    try {
      keep = fn(env);
    } catch (e) {
      deadLetter(batch, env, stage, e, original);
      continue;
    }
    if (keep) recs[kept++] = env;
  }
  recs.length = kept;
}

/**
 * Sets each record's event time to `fn(value)`, a finite number of ms; records for which it
 * throws or returns something else go to the dead letters. One loop that calls `fn` directly:
 * these stages run on every record, and a closure call per record (`eachRecord`) was most of
 * their time.
 */
export function setEventTimes(batch: Batch, stage: string, fn: (value: unknown) => number): void {
  const recs = batch.records;
  let i = 0;
  try {
    for (; i < recs.length; i++) {
      const env = recs[i]!;
      env.eventTime = checkedEventTime(fn, env.value);
    }
    return;
  } catch (e) {
    finishAfterThrow(batch, stage, i, e, (env) => {
      env.eventTime = checkedEventTime(fn, env.value);
    });
  }
}

/**
 * Decodes each record's value in place (the decode stage), as `setEventTimes` sets event times:
 * one direct loop; a value that does not decode goes to the dead letters as it came, with the
 * reason. Through `eachRecord` the decode was a closure behind a call site shared by every
 * stage (~0.1 µs a record).
 */
export function decodeValues(batch: Batch, stage: string, decoder: { decode(raw: unknown): unknown }): void {
  const recs = batch.records;
  let i = 0;
  try {
    for (; i < recs.length; i++) {
      const env = recs[i]!;
      env.value = decoder.decode(env.value);
    }
    return;
  } catch (e) {
    finishAfterThrow(batch, stage, i, e, (env) => {
      env.value = decoder.decode(env.value);
    });
  }
}

/** Sets `features` on each record's value to `op.apply(env)` (the features stage), likewise. */
export function setFeatures(batch: Batch, stage: string, op: { apply(env: Envelope): Float64Array }): void {
  const recs = batch.records;
  let i = 0;
  try {
    for (; i < recs.length; i++) {
      const env = recs[i]!;
      (env.value as { features: Float64Array }).features = op.apply(env);
    }
    return;
  } catch (e) {
    finishAfterThrow(batch, stage, i, e, (env) => {
      (env.value as { features: Float64Array }).features = op.apply(env);
    });
  }
}

/** `fn(value)`, which must be a finite number of ms; throws saying so otherwise. */
export function checkedEventTime(fn: (value: unknown) => number, value: unknown): number {
  const t = fn(value);
  if (!Number.isFinite(t))
    throw new SluiceError(
      'SLUICE_PIPELINE_EVENT_TIME',
      `event time must be a finite number of ms, got ${String(t)}`,
    );
  return t;
}

/** Sets each record's key to `fn(value)`, as `setEventTimes` does event times. */
export function setKeys(batch: Batch, stage: string, fn: (value: unknown) => RecordKey): void {
  const recs = batch.records;
  let i = 0;
  try {
    for (; i < recs.length; i++) {
      const env = recs[i]!;
      env.key = fn(env.value);
    }
    return;
  } catch (e) {
    finishAfterThrow(batch, stage, i, e, (env) => {
      env.key = fn(env.value);
    });
  }
}

/**
 * The slow path of the per-batch setters above, once `apply` threw `err` on record `i`: that
 * record goes to the dead letters, the rest run one by one (each throw dead-letters just its
 * record) and the batch is compacted. The fast loops keep their own copy of `apply`'s body: a
 * closure call per record there was most of those stages' time.
 */
function finishAfterThrow(
  batch: Batch,
  stage: string,
  i: number,
  err: unknown,
  apply: (env: Envelope) => void,
): void {
  const recs = batch.records;
  deadLetter(batch, recs[i]!, stage, err, recs[i]!.value);
  recs.splice(i, 1);
  compactFrom(
    batch,
    stage,
    (env) => {
      apply(env);
      return true;
    },
    i,
  );
}
