import type { RecordTrace } from '../observe/index.js';

/** Where a record came from: replaying the source from here reproduces it. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

/** Record keys are plain strings or numbers: they hash and compare cheaply. */
export type RecordKey = string | number;

/**
 * A record in flight. Sources create it; stages replace `value`, set `key` and `eventTime`,
 * and push their completion time onto `stamps` (wall-clock ms), which is how every stage's
 * latency is measured without a timer per stage. Records read together share one `stamps`
 * array (they travel as one batch).
 */
export interface Envelope<T = unknown> {
  value: T;
  key: RecordKey | undefined;
  /** Event time in epoch ms (defaults to the log append time). */
  eventTime: number;
  /** Time the record was appended to its source log, epoch ms. */
  appendTime: number;
  topic: string;
  partition: number;
  offset: number;
  /** Stage completion times, wall-clock ms; stamps[0] is when the source read it. */
  stamps: number[];
  /** Set on records a stage creates (e.g. window results), whose source position is not theirs. */
  id?: string;
  /** The W3C `traceparent` the record arrived with (Kafka header, HTTP header, MQTT property). */
  traceparent?: string;
  /** Set while a sampled record is traced: its span, whose `traceparent` goes downstream. */
  trace?: RecordTrace;
}

/**
 * The record's stable id, `<origin>-<partition>@<position>`: the same record replayed after a
 * crash gets the same id, which is what makes action idempotency keys deterministic. A record
 * read from a source: `topic-partition@offset`; one a stage made: see `derivedId`.
 */
export function recordId(env: Envelope): string {
  return env.id ?? `${env.topic}-${env.partition}@${env.offset}`;
}

/**
 * The id of a record a stage created, in the same shape as a source record's
 * (`topic-partition@offset`): `stage-key@position`, the stage for the topic, the record key
 * for the partition, and for the offset what places it within the key: a window's start
 * (`window-card7@1700000040000`, `#n` appended for the nth update with `emit: 'update'`), the
 * ids of the two records an interval join paired, or the input's id and `#n` for the further
 * outputs of a processor. See docs/actions.md.
 *
 * @example
 * derivedId('perMinute', 'card7', 1700000040000); // 'perMinute-card7@1700000040000'
 */
export function derivedId(stage: string, key: RecordKey, position: string | number): string {
  return `${stage}-${key}@${position}`;
}

/**
 * Creates an envelope; sources call this once per record. `readAt` is the read time, or a
 * stamps array shared by every record read together: they move through the stages as one
 * batch, so one shared array records their stage times without an allocation per record.
 */
export function envelope<T>(
  value: T,
  topic: string,
  partition: number,
  offset: number,
  appendTime: number,
  readAt: number | number[],
): Envelope<T> {
  return {
    value,
    key: undefined,
    eventTime: appendTime,
    appendTime,
    topic,
    partition,
    offset,
    stamps: typeof readAt === 'number' ? [readAt] : readAt,
  };
}

/** A record that could not be processed, with the reason and the stage that rejected it. */
export interface DeadLetter {
  stage: string;
  reason: string;
  /** The original bytes or value as read from the source. */
  original: unknown;
  topic: string;
  partition: number;
  offset: number;
  time: number;
}
