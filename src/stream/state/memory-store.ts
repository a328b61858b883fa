import type { RecordKey } from '../envelope.js';
import type { CheckpointMeta, CheckpointStore, StateChange, StateReader } from './store.js';
import { approxBytes } from './store.js';

/**
 * Checkpoints in memory (tests, notebooks): the same semantics as the LMDB store, minus
 * durability. Values are deep-copied on save and on read, as a serialising store would.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly metas = new Map<string, CheckpointMeta>();
  private readonly state = new Map<string, Map<string, Map<RecordKey, unknown>>>();
  saves = 0;

  async load(pipeline: string): Promise<CheckpointMeta | undefined> {
    const m = this.metas.get(pipeline);
    return m && structuredClone(m);
  }

  reader(pipeline: string): StateReader {
    const ns = (name: string) => this.state.get(pipeline)?.get(name);
    return {
      get: (name, key) => {
        const v = ns(name)?.get(key);
        return v === undefined ? undefined : structuredClone(v);
      },
      keys: (name) => [...(ns(name)?.keys() ?? [])],
    };
  }

  async save(meta: CheckpointMeta, changes: StateChange[]): Promise<{ bytes: number }> {
    let p = this.state.get(meta.pipeline);
    if (!p) this.state.set(meta.pipeline, (p = new Map()));
    let bytes = 0;
    for (const c of changes) {
      let ns = p.get(c.ns);
      if (!ns) p.set(c.ns, (ns = new Map()));
      if (c.value === undefined) ns.delete(c.key);
      else ns.set(c.key, structuredClone(c.value));
      bytes += approxBytes(c.value);
    }
    this.metas.set(meta.pipeline, structuredClone(meta));
    this.saves++;
    return { bytes };
  }
}
