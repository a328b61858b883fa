// The changelog topic's record layout, and how a partition's committed state is read back from
// it. Every state change is a record keyed by [namespace, key] (so compaction keeps the latest
// value of each); a checkpoint marker ends each checkpoint and carries the input offsets that
// state corresponds to; an owner claims a partition by writing a higher epoch. Reading back:
// only changes followed by a marker count (a crash mid-checkpoint leaves an unmarked tail, which
// is ignored), and anything written by a lower epoch after a claim (a fenced, late worker) too.

import { deserialize, serialize } from 'node:v8';
import type { RecordKey, SourceOffsets } from '../../stream/index.js';
import type { FetchedRecord } from '../partition-fetcher.js';
import { MemoryPartitionState, type PartitionState } from './partition-state.js';

const CHECKPOINT_KEY = '__sluice_checkpoint';
const CLAIM_KEY = '__sluice_claim';
/** Header carrying the writer's epoch on every record. */
const EPOCH_HEADER = 'sluice.epoch';

/** A record to produce to a changelog partition. */
export interface ChangelogRecord {
  key: Buffer;
  value: Buffer | null;
  headers: Map<Buffer, Buffer>;
}

export interface RestoredPartition {
  state: PartitionState;
  /** Input offsets of the last complete checkpoint ({} when none). */
  offsets: SourceOffsets;
  /** Highest epoch that claimed the partition (0 when never claimed). */
  epoch: number;
  /** Keys written after the last checkpoint marker: their log value is not the committed one. */
  uncommitted: [string, RecordKey][];
  records: number;
}

const epochHeader = (epoch: number) => new Map([[Buffer.from(EPOCH_HEADER), Buffer.from(String(epoch))]]);

export function changeRecord(epoch: number, ns: string, key: RecordKey, value: unknown): ChangelogRecord {
  return {
    key: Buffer.from(JSON.stringify([ns, key])),
    value: value === undefined ? null : serialize(value),
    headers: epochHeader(epoch),
  };
}

export function checkpointRecord(epoch: number, offsets: SourceOffsets): ChangelogRecord {
  return {
    key: Buffer.from(CHECKPOINT_KEY),
    value: Buffer.from(JSON.stringify({ offsets, savedAt: Date.now() })),
    headers: epochHeader(epoch),
  };
}

export function claimRecord(epoch: number, member: string): ChangelogRecord {
  return {
    key: Buffer.from(CLAIM_KEY),
    value: Buffer.from(JSON.stringify({ epoch, member, at: Date.now() })),
    headers: epochHeader(epoch),
  };
}

function epochOf(r: FetchedRecord): number {
  for (const [k, v] of r.headers) if (k?.toString() === EPOCH_HEADER && v) return Number(v.toString());
  return 0;
}

/**
 * Folds a partition's changelog records (in offset order) into its committed state (in memory,
 * or in the given `state`, e.g. a local LMDB database). Feed records with `apply`, then read
 * `result()`.
 */
export class ChangelogReader {
  /** Set when a claim newer than the seed's epoch was read: the seeded state is not current. */
  foreignClaim = false;

  /**
   * `seed`: the state already holds the partition as of a resume point of owner `epoch`, and the
   * records fed are those after it.
   */
  constructor(
    private readonly state: PartitionState = new MemoryPartitionState(),
    private readonly seed?: { epoch: number; offsets: SourceOffsets },
  ) {
    if (seed) {
      this.owner = seed.epoch;
      this.offsets = seed.offsets;
    }
  }

  private pending = new Map<string, { ns: string; key: RecordKey; value: Buffer | null }>();
  private offsets: SourceOffsets = {};
  private owner = 0;
  private records = 0;

  apply(batch: FetchedRecord[]): void {
    for (const r of batch) {
      this.records++;
      const epoch = epochOf(r);
      if (epoch < this.owner) continue; // written by a worker fenced off by a later claim
      const key = r.key?.toString() ?? '';
      if (key === CLAIM_KEY) {
        if (this.seed && epoch > this.seed.epoch) this.foreignClaim = true;
        this.owner = epoch;
        this.pending.clear(); // the previous owner's unfinished checkpoint never happened
      } else if (key === CHECKPOINT_KEY) {
        this.state.apply(
          [...this.pending.values()].map((c) => ({
            ns: c.ns,
            key: c.key,
            value: c.value === null ? undefined : deserialize(c.value),
          })),
        );
        this.pending.clear();
        this.offsets = (JSON.parse(r.value!.toString()) as { offsets: SourceOffsets }).offsets;
      } else {
        const [ns, k] = JSON.parse(key) as [string, RecordKey];
        this.pending.set(key, { ns, key: k, value: r.value });
      }
    }
  }

  /** Drops what was read (a standby copy no longer needed). */
  release(): void {
    this.state.clear();
    this.pending.clear();
  }

  result(): RestoredPartition {
    return {
      state: this.state,
      offsets: this.offsets,
      epoch: this.owner,
      uncommitted: [...this.pending.values()].map((c) => [c.ns, c.key]),
      records: this.records,
    };
  }
}
