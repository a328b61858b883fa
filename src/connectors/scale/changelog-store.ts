import type { Consumer, Producer } from '@platformatic/kafka';
import {
  META_KEY,
  approxBytes,
  type CheckpointMeta,
  type CheckpointStore,
  type RecordKey,
  type SourceOffsets,
  type StateChange,
  type StateReader,
} from '../../stream/index.js';
import { ConnectorError } from '../errors.js';
import {
  ChangelogReader,
  changeRecord,
  checkpointRecord,
  claimRecord,
  type ChangelogRecord,
} from './changelog.js';
import { MemoryPartitionState, type PartitionState } from './partition-state.js';
import { PartitionFetcher } from '../partition-fetcher.js';
import { partitionFor } from './partitioner.js';

export interface RestoreProgress {
  partition: number;
  records: number;
  /** The changelog partition's end when the restore started. */
  of: number;
  done: boolean;
  ms: number;
  /** Records a standby copy had already read before the restore (only the rest was read now). */
  from_standby?: number;
  /** The changelog offset the restore started at, when local state from a resume point was reused. */
  resumed_at?: number;
}

export interface ChangelogStoreOptions {
  /** The input topic whose partitions the state follows (the repartition topic). */
  inputTopic: string;
  changelogTopic: string;
  /** Partitions of the input topic (and of the changelog). */
  partitions: number;
  producer: Producer;
  /** A client to fetch the changelog with (the group member's consumer). */
  client: Consumer;
  /** Names this worker in its claims. */
  member: string;
  /** Where an owned partition's state lives; default in memory. */
  stateOf?: (partition: number) => PartitionState;
}

/** A changelog partition being read: what was read so far, and where to go on. */
interface Replica {
  fetcher: PartitionFetcher;
  reader: ChangelogReader;
  /** Where reading started (a resume point), 0 from the start. */
  from: number;
  /** Records a standby had read before a restore took it over. */
  warm: number;
}

interface Owned {
  state: PartitionState;
  offsets: SourceOffsets;
  epoch: number;
}

/**
 * Checkpoints of a scaled-out worker: the state of the partitions it owns, kept in memory and
 * written, change by change, to a compacted changelog topic partitioned like the input. A
 * checkpoint is one produce per partition (its changes, then a marker with that partition's
 * input offsets); a worker that is given a partition reads its changelog back first.
 *
 * @example
 * const store = new ChangelogCheckpointStore({ inputTopic, changelogTopic, partitions: 6, producer, client, member });
 * await store.restore([0, 3]);
 * pipeline.run({ checkpoints: store });
 */
export class ChangelogCheckpointStore implements CheckpointStore {
  private readonly owned = new Map<number, Owned>();
  private readonly standbys = new Map<number, Replica>();

  constructor(private readonly opts: ChangelogStoreOptions) {}

  /** Partitions whose state this store holds. */
  partitions(): number[] {
    return [...this.owned.keys()];
  }

  /** Input offsets to resume each owned partition from (its key "topic/partition" and dedup marks). */
  offsets(): SourceOffsets {
    return Object.assign({}, ...[...this.owned.values()].map((o) => o.offsets)) as SourceOffsets;
  }

  /**
   * Reads each partition's changelog to its end, then claims it with a higher epoch (fencing
   * off a previous owner still writing) and rewrites keys whose last log value was never
   * committed, so that compaction can only ever keep committed values.
   */
  async restore(partitions: number[], onProgress?: (p: RestoreProgress) => void): Promise<void> {
    for (const p of partitions) {
      if (this.owned.has(p)) continue;
      const started = performance.now();
      // A warm standby copy, or local state from an earlier run, only needs the changelog's
      // tail; otherwise read from the start.
      let replica = this.standbys.get(p) ?? this.resumed(p) ?? this.replica(p);
      this.standbys.delete(p);
      let read = await this.readToEnd(p, replica, started, onProgress).catch(() => undefined);
      if (read === undefined || replica.reader.foreignClaim) {
        // Not usable: the changelog moved on under another owner, or was recreated.
        replica = this.replica(p);
        read = await this.readToEnd(p, replica, started, onProgress);
      }
      const restored = replica.reader.result();
      const epoch = restored.epoch + 1;
      const repair: ChangelogRecord[] = restored.uncommitted.map(([ns, key]) =>
        changeRecord(epoch, ns, key, restored.state.get(ns, key)),
      );
      await this.send(p, [
        claimRecord(epoch, this.opts.member),
        ...repair,
        checkpointRecord(epoch, restored.offsets),
      ]);
      restored.state.setResumePoint?.({ next: read.end, epoch, offsets: restored.offsets });
      this.owned.set(p, { state: restored.state, offsets: restored.offsets, epoch });
      onProgress?.({
        partition: p,
        records: restored.records,
        of: read.of,
        done: true,
        ms: performance.now() - started,
        from_standby: replica.warm,
        ...(replica.from > 0 ? { resumed_at: replica.from } : {}),
      });
    }
  }

  /** Reads `p`'s changelog from the replica's position to its end; rejects when it cannot. */
  private async readToEnd(
    p: number,
    { fetcher, reader, from }: Replica,
    started: number,
    onProgress?: (p: RestoreProgress) => void,
  ): Promise<{ of: number; end: number }> {
    let lastReport = started;
    let of = -1;
    do {
      reader.apply(await fetcher.fetch());
      if (of < 0) {
        of = fetcher.highWatermark(p) ?? 0;
        if (of < from)
          throw new ConnectorError(
            'SLUICE_SCALE_TOPICS',
            `changelog ${this.opts.changelogTopic}/${p} ends before offset ${from}, which this worker's state has read up to: was the changelog topic deleted or recreated?`,
          );
      }
      const now = performance.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        onProgress?.({
          partition: p,
          records: fetcher.positions().get(p)!,
          of,
          done: false,
          ms: now - started,
        });
      }
    } while (!fetcher.caughtUp(p));
    return { of, end: fetcher.positions().get(p)! };
  }

  /** A replica that goes on from local state's resume point, when there is one. */
  private resumed(p: number): Replica | undefined {
    const state = this.opts.stateOf?.(p);
    const point = state?.resumePoint?.();
    if (!state || !point) return undefined;
    const reader = new ChangelogReader(state, { epoch: point.epoch, offsets: point.offsets });
    return { fetcher: this.fetcherAt(p, point.next), reader, from: point.next, warm: 0 };
  }

  /**
   * Keeps warm copies of `partitions` (those owned elsewhere): reads what their changelogs got
   * since the last call, so that taking one over reads only the tail. Call it periodically.
   */
  async refreshStandbys(partitions: number[]): Promise<void> {
    for (const [p, standby] of this.standbys) {
      if (partitions.includes(p)) continue;
      this.standbys.delete(p);
      if (!this.owned.has(p)) standby.reader.release();
    }
    for (const p of partitions) {
      if (this.owned.has(p)) continue;
      let standby = this.standbys.get(p);
      if (!standby) this.standbys.set(p, (standby = this.replica(p)));
      await this.readToEnd(p, standby, performance.now());
      standby.warm = standby.reader.result().records;
    }
  }

  /** A fetcher of changelog partition `p` from `offset` that never waits for more. */
  private fetcherAt(p: number, offset: number): PartitionFetcher {
    const fetcher = new PartitionFetcher(this.opts.client, this.opts.changelogTopic, { maxWaitMs: 0 });
    fetcher.assign(p, offset);
    return fetcher;
  }

  private replica(p: number): Replica {
    const fetcher = this.fetcherAt(p, 0);
    const state = this.opts.stateOf?.(p) ?? new MemoryPartitionState();
    state.clear(); // leftovers of an earlier ownership: the changelog is read from the start
    return { fetcher, reader: new ChangelogReader(state), from: 0, warm: 0 };
  }

  /** Forgets the state of partitions given up (their next owner restores them). */
  release(partitions: number[]): void {
    for (const p of partitions) {
      this.owned.get(p)?.state.clear();
      this.owned.delete(p);
    }
  }

  async load(pipeline: string): Promise<CheckpointMeta | undefined> {
    if (this.owned.size === 0) return undefined;
    return { pipeline, id: 0, offsets: this.offsets(), counters: {}, savedAt: Date.now() };
  }

  reader(): StateReader {
    return {
      get: (ns, key) => {
        const v = this.stateHolding(key)?.get(ns, key);
        return v === undefined ? undefined : structuredClone(v);
      },
      keys: (ns) => [...this.owned.values()].flatMap((o) => [...o.state.keys(ns)]),
    };
  }

  async save(meta: CheckpointMeta, changes: StateChange[]): Promise<{ bytes: number }> {
    // Each change goes to its key's partition; the operators' own bookkeeping (META_KEY) to all.
    const byPartition = new Map<number, StateChange[]>();
    for (const p of this.owned.keys()) byPartition.set(p, []);
    let bytes = 0;
    for (const c of changes) {
      if (c.key === META_KEY) for (const list of byPartition.values()) list.push(c);
      else byPartition.get(this.partitionOf(c.key))!.push(c);
      bytes += approxBytes(c.value);
    }
    const sends: Promise<void>[] = [];
    for (const [p, list] of byPartition) {
      const o = this.owned.get(p)!;
      const offsets = this.offsetsOf(p, meta.offsets);
      if (list.length === 0 && JSON.stringify(offsets) === JSON.stringify(o.offsets)) continue;
      const batch = [
        ...list.map((c) => changeRecord(o.epoch, c.ns, c.key, c.value)),
        checkpointRecord(o.epoch, offsets),
      ];
      sends.push(
        this.send(p, batch).then((base) => {
          // Durable in the changelog: now the local copy moves forward too, and a restart may
          // read on from after this checkpoint (one partition's records of one send are
          // contiguous; only this worker writes there, fenced writers aside).
          o.state.apply(list);
          o.offsets = offsets;
          o.state.setResumePoint?.({ next: base + batch.length, epoch: o.epoch, offsets });
        }),
      );
    }
    await Promise.all(sends);
    return { bytes };
  }

  /** The owned partition that holds `key`'s state; META_KEY lives in every one. */
  private stateHolding(key: RecordKey): PartitionState | undefined {
    if (key === META_KEY) return this.owned.values().next().value?.state;
    return this.owned.get(partitionFor(key, this.opts.partitions))?.state;
  }

  private partitionOf(key: RecordKey): number {
    const p = partitionFor(key, this.opts.partitions);
    if (!this.owned.has(p)) {
      throw new ConnectorError(
        'SLUICE_SCALE_UNSUPPORTED',
        `state key ${JSON.stringify(key)} belongs to partition ${p} of ${this.opts.inputTopic}, which this worker does not own: keep state only after .keyBy(), on the key it sets`,
      );
    }
    return p;
  }

  /** The entries of `offsets` that belong to input partition `p` ("topic/p" and "topic/p|..."). */
  private offsetsOf(p: number, offsets: SourceOffsets): SourceOffsets {
    const own = `${this.opts.inputTopic}/${p}`;
    const out: SourceOffsets = {};
    for (const [k, v] of Object.entries(offsets)) if (k === own || k.startsWith(`${own}|`)) out[k] = v;
    return out;
  }

  /** Produces to one changelog partition; resolves with the offset of the first record. */
  private async send(partition: number, records: ChangelogRecord[]): Promise<number> {
    const result = await this.opts.producer.send({
      messages: records.map((r) => ({
        topic: this.opts.changelogTopic,
        partition,
        key: r.key,
        value: r.value ?? undefined, // no value: a tombstone, which compaction removes the key on
        headers: r.headers,
      })),
    });
    const bases = (result.offsets ?? [])
      .filter((o) => o.partition === partition)
      .map((o) => Number(o.offset));
    return bases.length > 0 ? Math.min(...bases) : 0;
  }
}
