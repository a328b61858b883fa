// The transaction coordinator's state on disk: `<data>/txn-state.json`, rewritten atomically
// (temp file, fsync, rename) after every change that must survive a crash, as one line
// `<crc32c as 8 hex digits> <json>` so a damaged file is recognised instead of half-believed.
// It holds each transactional id's producer id, epoch and current transaction (partitions with
// the offset the transaction may start at, consumer groups, offsets to commit with it), and
// the aborted transactions that read_committed fetches must report.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../../core/crc32c.js';
import { writeFileAtomic } from '../../log/fs-util.js';
import { BrokerError } from '../errors.js';

export const TXN_STATE_FILE = 'txn-state.json';

/** Where a transaction stands: Empty between transactions; Prepare* while its markers are written. */
export type TxnStatus = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort';

/** A partition in a transaction, and the lowest offset its records there can have. */
export interface TxnPartition {
  topic: string;
  partition: number;
  /** The high watermark when it joined the transaction: no record of it lies below. */
  firstOffset: number;
}

/** A consumer offset that becomes the group's committed offset when the transaction commits. */
export interface PendingOffset {
  groupId: string;
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

/** One transactional id. */
export interface TxnRecord {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  status: TxnStatus;
  /** When the current transaction started (ms since epoch); its timeout counts from here. */
  startedAt: number;
  partitions: TxnPartition[];
  groups: string[];
  offsets: PendingOffset[];
  /** How the last transaction ended: a retried EndTxn of the same kind is answered with success. */
  lastEnd: 'commit' | 'abort' | null;
}

/** An aborted transaction in one partition: its records lie in [firstOffset, lastOffset). */
export interface AbortedTxn {
  topic: string;
  partition: number;
  producerId: number;
  firstOffset: number;
  /** The offset of its abort marker. */
  lastOffset: number;
}

export interface TxnStateData {
  txns: TxnRecord[];
  aborted: AbortedTxn[];
}

/** Reads the saved state; empty when there is no file yet. */
export function readTxnState(dir: string): TxnStateData {
  const path = join(dir, TXN_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { txns: [], aborted: [] };
    throw err;
  }
  const damaged = (why: string) =>
    new BrokerError(
      'SLUICE_BROKER_INVALID_OPTION',
      `${path} is damaged (${why}); restore it from a backup, or delete it to forget every transactional id (ongoing transactions then stay open in their partitions' logs)`,
    );
  const space = text.indexOf(' ');
  const json = text.slice(space + 1).trimEnd();
  if (space !== 8 || Number.parseInt(text.slice(0, 8), 16) !== crc32c(Buffer.from(json, 'utf8')))
    throw damaged('its CRC does not match');
  let data: TxnStateData;
  try {
    data = JSON.parse(json) as TxnStateData;
  } catch (err) {
    throw damaged((err as Error).message);
  }
  if (!Array.isArray(data.txns) || !Array.isArray(data.aborted)) throw damaged('no txns/aborted lists');
  return data;
}

/** Saves the state atomically and durably. */
export function writeTxnState(dir: string, data: TxnStateData): void {
  const json = JSON.stringify({ version: 1, ...data });
  const crc = crc32c(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0');
  writeFileAtomic(join(dir, TXN_STATE_FILE), `${crc} ${json}\n`);
}
