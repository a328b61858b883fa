import type { DeadLetter, Envelope } from './envelope.js';
import type { StateChange, StateReader } from './state/store.js';
import type { PipelineMetrics } from '../observe/pipeline-metrics.js';

/** Next offset to read, per "topic/partition". */
export type SourceOffsets = Record<string, number>;

export function offsetKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** Passed to a source when the pipeline starts. */
export interface SourceContext {
  pipeline: string;
  /** Offsets from the last checkpoint, if any: resume exactly there. */
  startOffsets: SourceOffsets | undefined;
}

/**
 * Where records come from. `poll` returns a batch (maybe empty while waiting for data) or
 * `null` when a bounded source has ended. Implementations: the embedded log, Kafka, files...
 */
export interface Source<T> {
  readonly name: string;
  open(ctx: SourceContext): Promise<void>;
  /** Up to `max` records; resolves with [] after a short wait when nothing is available. */
  poll(max: number): Promise<Envelope<T>[] | null>;
  /** Next offsets after everything returned so far (what a checkpoint stores). */
  positions(): SourceOffsets;
  /**
   * The "topic/partition"s records come from, when `positions()` holds more than those (e.g.
   * dedup marks): watermarks wait for each. Default: the keys of `positions()`.
   */
  partitions?(): string[];
  /** Records available but not yet read. */
  lag(): number;
  /** The same per "topic/partition", where the source can tell (shown on the dashboard). */
  lagByPartition?(): Record<string, number>;
  /**
   * Event time (epoch ms) up to which the source has delivered every record, where it knows
   * (a test driver does): windows and joins close up to it even when no record passes it.
   */
  watermark?(): number;
  /** How far behind the newest record each "topic/partition" is, in ms (Kinesis MillisBehindLatest). */
  lagMsByPartition?(): Record<string, number>;
  /** Called after a checkpoint made `offsets` durable; sources with outside offsets commit here. */
  commit?(offsets: SourceOffsets): Promise<void>;
  /**
   * Takes back a batch that `poll` returned, once nothing refers to its envelopes any more (the
   * runtime calls it only where it knows that: see `SyncStep.consumes`), so that the next
   * batches can reuse them instead of allocating an envelope per record.
   */
  recycle?(records: Envelope<T>[]): void;
  /**
   * True where the records of each `poll` share one `stamps` array (records read together, as
   * `envelope()` makes them with a stamps array): the runtime then stamps a batch once per
   * stage instead of visiting every record.
   */
  readonly sharesStamps?: boolean;
  close(): Promise<void>;
}

/** Passed to sinks and async stages. */
export interface StageContext {
  pipeline: string;
  /**
   * Fires when the run is asked to stop: a stage that waits on something that is down (the
   * infer stage under `onUnavailable: 'wait'`) gives up its batch, which is then not checkpointed.
   */
  stopping?: AbortSignal;
  /** The run's metrics, for stages that report gauges (circuit breaker state, records held). */
  metrics?: PipelineMetrics;
}

/** Where records go at the end: actions, topics, collectors. Writes a whole batch at once. */
export interface Sink<T> {
  readonly name: string;
  open?(ctx: StageContext): Promise<void>;
  write(records: Envelope<T>[], ctx: StageContext): Promise<void> | void;
  /** Makes everything written so far durable; called before a checkpoint is saved. */
  flush?(): Promise<void> | void;
  close?(): Promise<void>;
  /** Effects performed / skipped as duplicates since open (for the run summary). */
  stats?(): { done: number; duplicates: number };
}

/** Receives records that failed, with their reasons. */
export interface DeadLetterSink {
  write(items: DeadLetter[]): Promise<void> | void;
  flush?(): Promise<void> | void;
  close?(): Promise<void>;
}

/**
 * A stage that keeps state between records. The runtime gives it read access to the
 * committed state at start, collects its changes at each checkpoint barrier and commits them
 * with the source offsets that produced them.
 */
export interface Stateful {
  /** Called once before the first record; `track` is false when nothing is checkpointed. */
  attach(state: StateReader, ns: string, track: boolean): void;
  /** Changes since the previous call (immutable values); `barrierId` names the checkpoint. */
  drainChanges(barrierId: number): StateChange[];
  /** The checkpoint `barrierId` is durable: state captured by it may leave memory. */
  committed?(barrierId: number): void;
  /** The source's partitions ("topic/partition"), known at start: watermarks wait for each. */
  inputs?(partitions: string[]): void;
}

/** A tensor as the inference layer's runners take and return it (structurally typed). */
export interface TensorLike {
  type: string;
  data: ArrayLike<number> | ArrayLike<bigint> | readonly string[];
  dims: readonly number[];
}

/** The part of a model runner that the pipeline calls; the inference layer implements it. */
export interface ModelLike {
  /**
   * `options` (understood by the inference layer's models, ignored by others): `signal` aborts
   * the call; `fallbackOn` narrows which failures a resilience fallback answers.
   */
  run(
    inputs: Record<string, TensorLike>,
    options?: { signal?: AbortSignal; fallbackOn?: (error: Error) => boolean },
  ): Promise<Record<string, TensorLike>>;
  readonly metadata?: {
    name?: string;
    inputs: readonly { name: string; type?: string; dims: readonly (number | string)[] }[];
    outputs: readonly { name: string; type?: string; dims: readonly (number | string)[] }[];
  };
}
