// The shard bookkeeping of the Kinesis source: which shards may be read (a child only once its
// parents are read to their end: that keeps every partition key's records in order across a
// split or merge) and how a shard's position is written in a Sluice checkpoint.

import type { SourceOffsets } from '../stream/index.js';

/** A shard as the source tracks it. */
export interface ShardState {
  id: string;
  /** The number in "shardId-000000000007": the records' partition. */
  num: number;
  /** ParentShardId and AdjacentParentShardId (a merge has two). */
  parents: string[];
  /** A reader runs (or ran) for it. */
  started: boolean;
  /** GetRecords returned no next iterator: the shard is closed and read to its end. */
  fetchedEnd: boolean;
  /** Fetched records of this shard still waiting in the source's buffer. */
  pending: number;
  /** Sequence number of the last record handed to the pipeline (what a checkpoint resumes after). */
  returnedSeq: string | undefined;
  /** Ordinal (the envelope offset) of the next record handed to the pipeline. */
  returnedOrdinal: number;
  /** Ordinal the next fetched record gets. */
  fetchOrdinal: number;
  /** Sequence number of the last fetched record (a new iterator resumes after it). */
  fetchedSeq: string | undefined;
  /** MillisBehindLatest of the last GetRecords. */
  behindMs: number;
  /** The last GetRecords returned nothing: caught up (for bounded runs). */
  caughtUp: boolean;
  /** Start at LATEST rather than TRIM_HORIZON (no checkpoint, startAt 'latest'). */
  startLatest: boolean;
}

/** "shardId-000000000007" to 7; Kinesis names every shard this way. */
export function shardNumber(shardId: string): number {
  const m = /(\d+)$/.exec(shardId);
  if (!m) throw new Error(`Kinesis shard id "${shardId}" does not end in a number`);
  return Number(m[1]);
}

/** The checkpoint key of a shard's position: `stream/7@SEQ`, or `stream/7@end` once read to its end. */
export function positionKey(stream: string, num: number, seq: string | 'end'): string {
  return `${stream}/${num}@${seq}`;
}

/** A shard's position from a checkpoint: the sequence number to resume after (or 'end'), and the next ordinal. */
export interface SavedPosition {
  seq: string | 'end';
  ordinal: number;
}

/** The positions of `stream`'s shards in a checkpoint's offsets, by shard number. */
export function savedPositions(
  stream: string,
  offsets: SourceOffsets | undefined,
): Map<number, SavedPosition> {
  const out = new Map<number, SavedPosition>();
  const prefix = `${stream}/`;
  for (const [k, ordinal] of Object.entries(offsets ?? {})) {
    if (!k.startsWith(prefix)) continue;
    const m = /^(\d+)@(\d+|end)$/.exec(k.slice(prefix.length));
    if (m) out.set(Number(m[1]), { seq: m[2]!, ordinal });
  }
  return out;
}

/** Whether every record of the shard has been handed to the pipeline. */
export function shardDone(s: ShardState): boolean {
  return s.fetchedEnd && s.pending === 0;
}

/**
 * Shards that may start now: not started, and each parent either read to its end or no longer
 * listed (its records are past the stream's retention). Records of a child are fetched only after
 * its parents' last records are in the buffer, which hands records out in order.
 */
export function readyShards(shards: Map<string, ShardState>): ShardState[] {
  return [...shards.values()].filter(
    (s) =>
      !s.started &&
      !s.fetchedEnd &&
      s.parents.every((p) => {
        const parent = shards.get(p);
        return parent === undefined || parent.fetchedEnd;
      }),
  );
}

/** What a checkpoint stores for the shards: each shard that handed out records, or ended. */
export function shardPositions(stream: string, shards: Iterable<ShardState>): SourceOffsets {
  const out: SourceOffsets = {};
  for (const s of shards) {
    if (shardDone(s)) out[positionKey(stream, s.num, 'end')] = s.returnedOrdinal;
    else if (s.returnedSeq !== undefined) out[positionKey(stream, s.num, s.returnedSeq)] = s.returnedOrdinal;
  }
  return out;
}
