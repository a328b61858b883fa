import type { RecordKey } from '../envelope.js';
import type { SourceOffsets } from '../interfaces.js';

/** What a checkpoint records besides state: where the sources stand, and the run's counters. */
export interface CheckpointMeta {
  pipeline: string;
  id: number;
  offsets: SourceOffsets;
  counters: Record<string, number>;
  savedAt: number;
}

/** One state change: `value` undefined deletes the key. Values must not be mutated afterwards. */
export interface StateChange {
  ns: string;
  key: RecordKey;
  value: unknown;
}

/** Read access to the committed state of one pipeline, by operator namespace and key. */
export interface StateReader {
  get(ns: string, key: RecordKey): unknown;
  keys(ns: string): Iterable<RecordKey>;
}

/**
 * Stores checkpoints: the state changes since the previous checkpoint and the source offsets
 * that produced them, committed in one transaction, so a restart sees the old checkpoint or
 * the new one, never a mix. State is read back per key, on demand, so it may exceed memory.
 */
export interface CheckpointStore {
  load(pipeline: string): Promise<CheckpointMeta | undefined>;
  reader(pipeline: string): StateReader;
  /** Commits atomically; resolves with the bytes written (for metrics). */
  save(meta: CheckpointMeta, changes: StateChange[]): Promise<{ bytes: number }>;
  close?(): Promise<void>;
}

/** Rough encoded size of a value, for checkpoint-size metrics without encoding twice. */
export function approxBytes(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value === 'number') return 9;
  if (typeof value === 'string') return value.length + 5;
  if (typeof value === 'boolean') return 1;
  if (Array.isArray(value)) {
    let n = 5;
    for (const v of value) n += approxBytes(v);
    return n;
  }
  if (ArrayBuffer.isView(value)) return value.byteLength + 6;
  let n = 5;
  for (const [k, v] of Object.entries(value as object)) n += k.length + 1 + approxBytes(v);
  return n;
}
