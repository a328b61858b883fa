import { createHash } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import type { Database, RootDatabase } from 'lmdb';
import type { RecordKey } from '../envelope.js';
import { SluiceError } from '../errors.js';
import type { CheckpointMeta, CheckpointStore, StateChange, StateReader } from './store.js';
import { approxBytes } from './store.js';
import { lmdbFileProblem } from './lmdb-file-check.js';
import { loadLmdb } from './lmdb-module.js';
import { addHash, canonicalText, checksumOf, type StateChecksum } from './state-checksum.js';
import { HASH_VERSION, entryHash2 } from './entry-hash.js';

/** Entry hashes a store keeps in memory, so a checkpoint need not read back what it replaces. */
const MAX_CACHED_HASHES = 1_000_000;

type StateKey = [string, string, RecordKey];

/** Options of {@link LmdbCheckpointStore.open}. */
export interface LmdbStoreOptions {
  mapSizeBytes?: number;
  /**
   * Move an existing store aside (renamed to `<path>.set-aside-<time>`) and start empty, so the
   * pipeline replays its sources from the start and rebuilds its state from the log: the way
   * out when the store is damaged. Idempotent actions are not repeated by the replay.
   */
  rebuild?: boolean;
}

/**
 * Checkpoints in an embedded LMDB database: one write transaction per checkpoint holds the
 * state changes and the source offsets that produced them (a crash leaves the previous
 * checkpoint whole). State is memory-mapped and read per key, so it can exceed the heap.
 *
 * Damage is detected before use: the file is checked before LMDB maps it (a truncated or zeroed
 * file gives SLUICE_STATE_UNREADABLE, not a crash), and each checkpoint stores a checksum over the
 * pipeline's state entries that {@link load} recomputes, so changed bytes are never used.
 *
 * @example
 * const store = LmdbCheckpointStore.open('./data/state');
 * const run = myPipeline.run({ checkpoints: store });
 */
export class LmdbCheckpointStore implements CheckpointStore {
  /** Each pipeline's checksum as of its last checkpoint, once loaded or computed. */
  private readonly checksums = new Map<string, StateChecksum>();
  /**
   * The hash of each entry as stored (by its key's canonical text), up to MAX_CACHED_HASHES: a
   * checkpoint rewrites every key that changed, and taking the replaced value's hash out of the
   * checksum meant reading and decoding that value back from LMDB and hashing it again, half of
   * a checkpoint's work.
   */
  private readonly hashes = new Map<string, number>();

  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<CheckpointMeta, string>,
    private readonly state: Database<unknown, StateKey>,
    private readonly sums: Database<StateChecksum & { hash?: number }, string>,
    readonly path: string,
  ) {}

  static open(path: string, opts: LmdbStoreOptions = {}): LmdbCheckpointStore {
    if (opts.rebuild && existsSync(path)) {
      renameSync(path, `${path}.set-aside-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    }
    const problem = lmdbFileProblem(path);
    if (problem !== null) throw damaged(path, `${problem} in data.mdb`);
    let root: RootDatabase;
    try {
      root = loadLmdb().open({ path, maxDbs: 4, mapSize: opts.mapSizeBytes ?? 2 ** 34, encoding: 'msgpack' });
    } catch (e) {
      throw new SluiceError(
        'SLUICE_STATE_UNREADABLE',
        `cannot open the state store at ${path}: ${(e as Error).message}`,
      );
    }
    const meta = root.openDB<CheckpointMeta, string>({ name: 'checkpoints', encoding: 'msgpack' });
    const state = root.openDB<unknown, StateKey>({
      name: 'state',
      encoding: 'msgpack',
      keyEncoding: 'ordered-binary',
    });
    const sums = root.openDB<StateChecksum & { hash?: number }, string>({
      name: 'state-checksums',
      encoding: 'msgpack',
    });
    return new LmdbCheckpointStore(root, meta, state, sums, path);
  }

  /** The pipeline's last checkpoint, after checking its stored state against the checkpoint's checksum. */
  async load(pipeline: string): Promise<CheckpointMeta | undefined> {
    const stored = this.sums.get(pipeline);
    let actual: StateChecksum;
    try {
      // A checksum of version-1 hashes (stores written before version 2) is checked as such;
      // the store goes on with version 2 from its next checkpoint.
      if (stored !== undefined && stored.hash !== HASH_VERSION)
        this.check(pipeline, stored, checksumOf(this.entries(pipeline)));
      actual = this.checksumOf(pipeline);
    } catch (e) {
      if (e instanceof SluiceError) throw e;
      throw damaged(
        this.path,
        `the state of pipeline ${pipeline} cannot be decoded (${(e as Error).message})`,
      );
    }
    // A store written before checksums existed has none yet: start from what it holds.
    if (stored?.hash === HASH_VERSION) this.check(pipeline, stored, actual);
    this.checksums.set(pipeline, actual);
    return this.meta.get(pipeline);
  }

  private check(pipeline: string, stored: StateChecksum, actual: StateChecksum): void {
    if (stored.entries !== actual.entries || stored.sum !== actual.sum) {
      throw damaged(
        this.path,
        `the state of pipeline ${pipeline} fails its checkpoint checksum (${actual.entries} entries, ` +
          `the checkpoint has ${stored.entries}${stored.entries === actual.entries ? ' with other contents' : ''})`,
      );
    }
  }

  reader(pipeline: string): StateReader {
    return {
      get: (ns, key) => this.state.get([pipeline, ns, key]),
      keys: (ns) =>
        this.state
          .getKeys({ start: [pipeline, ns], end: [pipeline, `${ns}\u0000`] })
          .map((k) => (k as StateKey)[2]),
    };
  }

  async save(meta: CheckpointMeta, changes: StateChange[]): Promise<{ bytes: number }> {
    let bytes = 0;
    const pipeline = meta.pipeline;
    const sum = { ...(this.checksums.get(pipeline) ?? this.checksumOf(pipeline)) };
    /** Hashes as of this checkpoint, cached only once it is committed (undefined: removed). */
    const written = new Map<string, number | undefined>();
    // One write transaction; the promise resolves once it is committed and flushed (fsync) by
    // lmdb's write thread, so the event loop does not wait for the disk.
    await this.root.transaction(() => {
      for (const c of changes) {
        const key: StateKey = [pipeline, c.ns, c.key];
        const text = canonicalText(key)!;
        const old = written.has(text) ? written.get(text) : this.storedHash(key, text);
        if (old !== undefined) addHash(sum, old, -1);
        if (c.value === undefined) {
          this.state.removeSync(key);
          written.set(text, undefined);
        } else {
          this.state.putSync(key, c.value);
          const h = entryHash2(text, c.value);
          addHash(sum, h, 1);
          written.set(text, h);
        }
        bytes += approxBytes(c.value);
      }
      this.sums.putSync(pipeline, { ...sum, hash: HASH_VERSION });
      this.meta.putSync(pipeline, meta);
    });
    // With overlapping sync (lmdb's default on Linux) a commit can be visible before it is on
    // disk: a checkpoint counts only once flushed.
    await this.root.flushed;
    this.checksums.set(pipeline, sum);
    for (const [text, h] of written) this.cacheHash(text, h);
    return { bytes };
  }

  /** The hash of the entry stored under `key`, undefined when there is none. */
  private storedHash(key: StateKey, text: string): number | undefined {
    const cached = this.hashes.get(text);
    if (cached !== undefined) return cached;
    const old = this.state.get(key);
    return old === undefined ? undefined : entryHash2(text, old);
  }

  private cacheHash(text: string, h: number | undefined): void {
    if (h === undefined) this.hashes.delete(text);
    else if (this.hashes.size < MAX_CACHED_HASHES || this.hashes.has(text)) this.hashes.set(text, h);
  }

  /** The checksum of the pipeline's stored entries, computed from scratch (their hashes cached). */
  private checksumOf(pipeline: string): StateChecksum {
    const c = { entries: 0, sum: 0 };
    for (const { key, value } of this.entries(pipeline)) {
      const text = canonicalText(key)!;
      const h = entryHash2(text, value);
      addHash(c, h, 1);
      this.cacheHash(text, h);
    }
    return c;
  }

  private entries(pipeline: string): Iterable<{ key: unknown; value: unknown }> {
    return this.state.getRange({ start: [pipeline], end: [`${pipeline}\u0000`] });
  }

  /** SHA-256 over every state entry of the pipeline, in key order: equal state, equal digest. */
  digest(pipeline: string): string {
    const h = createHash('sha256');
    for (const { key, value } of this.entries(pipeline)) {
      h.update(JSON.stringify(key));
      h.update(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
      h.update('\n');
    }
    return h.digest('hex');
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

function damaged(path: string, what: string): SluiceError {
  return new SluiceError(
    'SLUICE_STATE_UNREADABLE',
    `the state store ${path} is damaged: ${what}. It was not used. Rebuild the state from the log: ` +
      `move ${path} aside and run the pipeline again so it replays its sources from the start ` +
      '(sluice demo fraud: add --rebuild-state; in code: LmdbCheckpointStore.open(path, { rebuild: true })); ' +
      'idempotent actions are not repeated',
  );
}
