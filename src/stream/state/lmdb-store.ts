import { createHash } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import type { RecordKey } from '../envelope.js';
import { SluiceError } from '../errors.js';
import type { CheckpointMeta, CheckpointStore, StateChange, StateReader } from './store.js';
import { approxBytes } from './store.js';
import { loadLmdb } from './lmdb-module.js';

type StateKey = [string, string, RecordKey];

/**
 * Checkpoints in an embedded LMDB database: one write transaction per checkpoint holds the
 * state changes and the source offsets that produced them (a crash leaves the previous
 * checkpoint whole). State is memory-mapped and read per key, so it can exceed the heap.
 *
 * @example
 * const store = LmdbCheckpointStore.open('./data/state');
 * const run = myPipeline.run({ checkpoints: store });
 */
export class LmdbCheckpointStore implements CheckpointStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<CheckpointMeta, string>,
    private readonly state: Database<unknown, StateKey>,
    readonly path: string,
  ) {}

  static open(path: string, opts: { mapSizeBytes?: number } = {}): LmdbCheckpointStore {
    let root: RootDatabase;
    try {
      root = loadLmdb().open({ path, maxDbs: 4, mapSize: opts.mapSizeBytes ?? 2 ** 34, encoding: 'msgpack' });
    } catch (e) {
      throw new SluiceError(
        'SLUICE_CHECKPOINT',
        `cannot open the state store at ${path}: ${(e as Error).message}`,
      );
    }
    const meta = root.openDB<CheckpointMeta, string>({ name: 'checkpoints', encoding: 'msgpack' });
    const state = root.openDB<unknown, StateKey>({
      name: 'state',
      encoding: 'msgpack',
      keyEncoding: 'ordered-binary',
    });
    return new LmdbCheckpointStore(root, meta, state, path);
  }

  async load(pipeline: string): Promise<CheckpointMeta | undefined> {
    return this.meta.get(pipeline);
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
    // One write transaction; the promise resolves once it is committed and flushed (fsync) by
    // lmdb's write thread, so the event loop does not wait for the disk.
    await this.root.transaction(() => {
      for (const c of changes) {
        const key: StateKey = [meta.pipeline, c.ns, c.key];
        if (c.value === undefined) this.state.removeSync(key);
        else this.state.putSync(key, c.value);
        bytes += approxBytes(c.value);
      }
      this.meta.putSync(meta.pipeline, meta);
    });
    // With overlapping sync (lmdb's default on Linux) a commit can be visible before it is on
    // disk: a checkpoint counts only once flushed.
    await this.root.flushed;
    return { bytes };
  }

  /** SHA-256 over every state entry of the pipeline, in key order: equal state, equal digest. */
  digest(pipeline: string): string {
    const h = createHash('sha256');
    for (const { key, value } of this.state.getRange({ start: [pipeline], end: [`${pipeline}\u0000`] })) {
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
