import type { Decoder } from '../decode.js';
import type { DeadLetter, Envelope, RecordKey } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Source, Stateful } from '../interfaces.js';
import { KeyedStateCache } from '../state/keyed-cache.js';
import type { StateChange, StateReader } from '../state/store.js';

export interface TableSpec<R> {
  /** Names the table's state; unique per pipeline. */
  name: string;
  /** The changelog feeding the table (e.g. a "profiles" topic): the latest record per key wins. */
  source: Source<unknown>;
  decode: Decoder<R>;
  key: (row: R) => RecordKey;
  /** A record whose value is null deletes its key (a tombstone), when it has a key. */
  maxCachedKeys?: number;
}

/**
 * A keyed table fed by another source, for stream-table joins: the runtime reads its source
 * to the end before the stream starts (so the first events see the whole table), then keeps
 * it current between batches. Rows are state: checkpointed with the source offsets. Upserts
 * are idempotent, so replaying the table's source after a crash converges to the same table.
 *
 * @example
 * const profiles = table({ name: 'profiles', source: logSource({ log, topic: 'profiles' }), decode: json(profileSchema), key: (p) => p.customerId });
 * stream.joinTable(profiles, { key: (t) => t.customerId, as: (t, p) => ({ ...t, segment: p?.segment ?? 'new' }) });
 */
export class Table<R> implements Stateful {
  readonly rows: KeyedStateCache<R>;
  /** Table records that failed to decode, handed to the next batch's dead letters. */
  readonly pendingDeadLetters: DeadLetter[] = [];

  constructor(readonly spec: TableSpec<R>) {
    requireOption(
      /^[A-Za-z0-9._-]+$/.test(spec.name),
      `table name "${spec.name}" must be letters, digits, ".", "_" or "-"`,
    );
    this.rows = new KeyedStateCache<R>({
      encode: (r) => structuredClone(r),
      decode: (s) => s as R,
      maxCachedKeys: spec.maxCachedKeys,
    });
  }

  get(key: RecordKey): R | undefined {
    return this.rows.get(key);
  }

  /** Applies changelog records in order. */
  apply(records: Envelope<unknown>[]): void {
    for (const env of records) {
      if (env.value === null && env.key !== undefined) {
        this.rows.delete(env.key);
        continue;
      }
      try {
        const row = this.spec.decode.decode(env.value);
        this.rows.set(this.spec.key(row), row);
      } catch (e) {
        this.pendingDeadLetters.push({
          stage: `table:${this.spec.name}`,
          reason: (e as Error).message,
          original: env.value,
          topic: env.topic,
          partition: env.partition,
          offset: env.offset,
          time: Date.now(),
        });
      }
    }
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    this.rows.attach(state, ns, track);
  }

  drainChanges(barrierId: number): StateChange[] {
    return this.rows.drainChanges(barrierId);
  }

  committed(barrierId: number): void {
    this.rows.committed(barrierId);
  }
}

/** Declares a table for `.joinTable()`. */
export function table<R>(spec: TableSpec<R>): Table<R> {
  return new Table(spec);
}
