// Where a scaled-out worker keeps the keyed state of one partition: in memory (the default), or
// in a local LMDB database (`--data DIR`), so that a worker's share of the state may exceed its
// memory, as the embedded runtime's state can, and a restarted worker reads only the changelog's
// tail. The changelog topic stays the truth: local state is only used from a resume point that
// no other owner has claimed past.

import type { Database, RootDatabase } from 'lmdb';
import { SluiceError, type RecordKey } from '../../stream/index.js';
import { lmdbFileProblem } from '../../stream/state/lmdb-file-check.js';
import { loadLmdb } from '../../stream/state/lmdb-module.js';

/** One key's new value (undefined: deleted). */
export interface StateEntry {
  ns: string;
  key: RecordKey;
  value: unknown;
}

/** The committed state of one partition, by namespace and key. */
export interface PartitionState {
  get(ns: string, key: RecordKey): unknown;
  keys(ns: string): Iterable<RecordKey>;
  /** Sets (value) or deletes (undefined value) each key, together. */
  apply(changes: Iterable<StateEntry>): void;
  /** Forgets everything (the partition moved away), resume point included. */
  clear(): void;
  /** Where a later restore of this state may resume reading the changelog (local state only). */
  resumePoint?(): ResumePoint | undefined;
  setResumePoint?(point: ResumePoint): void;
}

/**
 * The changelog position this state was read up to when its owner (epoch) claimed it. A restart
 * reads on from there (its own later records again: assignments, so harmless) unless another
 * owner claimed the partition since.
 */
export interface ResumePoint {
  next: number;
  epoch: number;
  offsets: Record<string, number>;
}

/** State in Maps: fast, bounded by the worker's memory. */
export class MemoryPartitionState implements PartitionState {
  private readonly byNs = new Map<string, Map<RecordKey, unknown>>();

  get(ns: string, key: RecordKey): unknown {
    return this.byNs.get(ns)?.get(key);
  }

  keys(ns: string): Iterable<RecordKey> {
    return this.byNs.get(ns)?.keys() ?? [];
  }

  apply(changes: Iterable<StateEntry>): void {
    for (const { ns, key, value } of changes) {
      let m = this.byNs.get(ns);
      if (!m) this.byNs.set(ns, (m = new Map()));
      if (value === undefined) m.delete(key);
      else m.set(key, value);
    }
  }

  clear(): void {
    this.byNs.clear();
  }
}

type StateKey = [number, string, RecordKey];

/**
 * One LMDB database per worker holding every owned partition's state, keyed (partition,
 * namespace, key), and each partition's resume point. Writes are not fsynced: a system crash
 * may lose the latest ones, which a restore reads again from the changelog.
 *
 * @example
 * const db = LocalStateDb.open('./data/w1');
 * const p3 = db.partition(3);
 * p3.apply([{ ns: 'features', key: 'card-7', value }]);
 */
export class LocalStateDb {
  private constructor(
    private readonly root: RootDatabase,
    private readonly db: Database<unknown, StateKey>,
    private readonly points: Database<ResumePoint, number>,
  ) {}

  static open(path: string): LocalStateDb {
    // A damaged file would crash the process inside LMDB (SIGBUS, SIGSEGV): refuse it instead.
    const problem = lmdbFileProblem(path);
    if (problem !== null) {
      throw new SluiceError(
        'SLUICE_STATE_UNREADABLE',
        `the local state at ${path} is damaged: ${problem} in data.mdb. Move ${path} aside and start the ` +
          "worker again: it restores its partitions' state from the changelog topics",
      );
    }
    const root = loadLmdb().open({ path, maxDbs: 2, mapSize: 2 ** 36, noSync: true, encoding: 'msgpack' });
    const db = root.openDB<unknown, StateKey>({
      name: 'state',
      encoding: 'msgpack',
      keyEncoding: 'ordered-binary',
    });
    const points = root.openDB<ResumePoint, number>({ name: 'resume', encoding: 'msgpack' });
    return new LocalStateDb(root, db, points);
  }

  partition(p: number): PartitionState {
    const { db } = this;
    return {
      get: (ns, key) => db.get([p, ns, key]),
      keys: (ns) => db.getKeys({ start: [p, ns], end: [p, `${ns}\u0000`] }).map((k) => (k as StateKey)[2]),
      apply: (changes) =>
        this.root.transactionSync(() => {
          for (const { ns, key, value } of changes) {
            if (value === undefined) db.removeSync([p, ns, key]);
            else db.putSync([p, ns, key], value);
          }
        }),
      clear: () =>
        this.root.transactionSync(() => {
          this.points.removeSync(p);
          for (const k of db.getKeys({ start: [p], end: [p + 1] })) db.removeSync(k as StateKey);
        }),
      resumePoint: () => this.points.get(p),
      setResumePoint: (point) => this.points.putSync(p, point),
    };
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
