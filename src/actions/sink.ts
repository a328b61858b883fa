import type { RecordKey, StageContext } from '../stream/index.js';
import type { LedgerEntry } from './ledger.js';

/** An action as a sink receives it: the ledger entry, plus the record's key and event time. */
export interface ActionEntry extends LedgerEntry {
  /** The record's key when the pipeline set one (`keyBy`): Kafka message key, alert grouping. */
  recordKey: RecordKey | undefined;
  /** Event time of the record, epoch ms. */
  eventTime: number;
  /**
   * W3C `traceparent` of the record (its span when traced, else the one it arrived with): sinks
   * send it on (webhook header, Kafka/topic record header) so traces continue downstream.
   */
  traceparent?: string;
}

/** An action a sink refused for good (e.g. an HTTP 4xx), with the reason. */
export interface Rejection {
  entry: ActionEntry;
  reason: string;
}

/** What a delivery did. */
export interface DeliveryResult {
  /** Actions that took effect now. */
  done: number;
  /** Actions the target already held (replays after a crash), so nothing happened. */
  duplicates: number;
  /** Actions refused for good; the action sends them to its dead letters. */
  rejected: Rejection[];
}

/**
 * Where an action's effects go: a Postgres table, a webhook, a topic, a file. `deliver` must be
 * idempotent on `entry.key` when `dedupes` is true (upsert on the key, `Idempotency-Key`
 * header, keys scanned from the topic): then no local ledger is needed for exactly-once effect.
 * A sink that cannot dedupe (`dedupes: false`) needs the action's ledger in front of it.
 *
 * @example
 * const sink: ActionSink = {
 *   name: 'console', dedupes: false,
 *   async deliver(entries) { for (const e of entries) console.log(e.key, e.payload); return { done: entries.length, duplicates: 0, rejected: [] }; },
 * };
 * stream.to(action({ name: 'alert', ledger, payload: (t) => t, to: sink }));
 */
export interface ActionSink {
  readonly name: string;
  /** True when the target ignores a key it already holds, so a replay has no second effect. */
  readonly dedupes: boolean;
  open?(ctx: StageContext): Promise<void>;
  /** Performs the effects of `entries` (in order); rejects only when a retry later may succeed. */
  deliver(entries: ActionEntry[]): Promise<DeliveryResult>;
  /** Makes every delivered effect durable; called before each checkpoint. */
  flush?(): Promise<void> | void;
  close?(): Promise<void>;
}

/** The ledger's view of an action entry (the fields its lines and digest hold). */
export function ledgerEntry(e: ActionEntry): LedgerEntry {
  return { key: e.key, action: e.action, payload: e.payload, time: e.time };
}
