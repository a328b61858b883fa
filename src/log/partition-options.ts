// Options of a partition, their defaults and their validation.

import { LogError } from './errors.js';

/** When appends are fsynced: after every batch, at most `fsyncIntervalMs` later, or only on roll/flush/close. */
export type FsyncPolicy = 'batch' | 'interval' | 'never';

export interface PartitionOptions {
  /** Roll to a new segment when the active one would exceed this many bytes. Default 64 MiB. */
  segmentBytes?: number;
  /** Log bytes between sparse index entries. Default 4096. */
  indexIntervalBytes?: number;
  /** Durability policy. Default 'interval'. */
  fsync?: FsyncPolicy;
  /** With fsync 'interval': the longest an append stays unsynced. Default 1000 ms. */
  fsyncIntervalMs?: number;
  /** Largest batch accepted. Default 16 MiB (Kafka's 1 MiB is small for embeddings and images). */
  maxBatchBytes?: number;
  /** Receives recovery and background-flush warnings. Default: console.warn. */
  onWarning?: (msg: string) => void;
  /** Roll to a new segment once the active one is this old (so retention can free it). Default: never by age. */
  segmentMs?: number;
  /** Delete closed segments whose newest record is older than this. Default: keep forever. */
  retentionMs?: number;
  /** Delete the oldest closed segments while the partition is larger than this. Default: no limit. */
  retentionBytes?: number;
  /** How often retention is checked besides every roll. Default 5 minutes. */
  retentionCheckIntervalMs?: number;
}

export type ResolvedPartitionOptions = Required<
  Omit<PartitionOptions, 'segmentMs' | 'retentionMs' | 'retentionBytes'>
> &
  Pick<PartitionOptions, 'segmentMs' | 'retentionMs' | 'retentionBytes'>;

const optional = (name: string, v: number | undefined, min: number) =>
  v === undefined ? undefined : check(name, v, min, Number.MAX_SAFE_INTEGER);

const MAX_FILE_POSITION = 0x7fffffff; // index entries store file positions as int32

function check(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new LogError(
      'SLUICE_LOG_INVALID_ARGUMENT',
      `option ${name} is ${value}; use an integer from ${min} to ${max}`,
    );
  }
  return value;
}

export function resolvePartitionOptions(o: PartitionOptions): ResolvedPartitionOptions {
  const fsync = o.fsync ?? 'interval';
  if (fsync !== 'batch' && fsync !== 'interval' && fsync !== 'never') {
    throw new LogError(
      'SLUICE_LOG_INVALID_ARGUMENT',
      `option fsync is '${String(fsync)}'; use 'batch', 'interval' or 'never'`,
    );
  }
  const segmentBytes = check('segmentBytes', o.segmentBytes ?? 64 << 20, 128, MAX_FILE_POSITION);
  return {
    segmentBytes,
    indexIntervalBytes: check('indexIntervalBytes', o.indexIntervalBytes ?? 4096, 1, MAX_FILE_POSITION),
    fsync,
    fsyncIntervalMs: check('fsyncIntervalMs', o.fsyncIntervalMs ?? 1000, 1, 2 ** 31 - 1),
    // A batch alone in a segment must keep file positions within int32.
    maxBatchBytes: check('maxBatchBytes', o.maxBatchBytes ?? 16 << 20, 61, MAX_FILE_POSITION),
    onWarning: o.onWarning ?? ((msg: string) => console.warn(msg)),
    segmentMs: optional('segmentMs', o.segmentMs, 1),
    retentionMs: optional('retentionMs', o.retentionMs, 0),
    retentionBytes: optional('retentionBytes', o.retentionBytes, 0),
    retentionCheckIntervalMs: check(
      'retentionCheckIntervalMs',
      o.retentionCheckIntervalMs ?? 300_000,
      1,
      2 ** 31 - 1,
    ),
  };
}
