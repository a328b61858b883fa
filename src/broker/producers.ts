// Idempotent producers: producer ids from InitProducerId, and the sequence checks of their
// batches against the partition's producer state (kept with the log, see
// src/log/producer-state.ts), so a retried batch is answered with its first offset instead of
// being written twice, and a gap or a stale epoch is refused. Producer ids are handed out from
// blocks reserved in `<data>/producer-ids.json` before use, so no id is ever issued twice, even
// across a crash.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../log/fs-util.js';
import { lastSequenceOf, type ProducerStates } from '../log/producer-state.js';
import { BrokerError } from './errors.js';
import { KafkaCode } from './protocol/error-codes.js';

const MAX_SEQ = 0x7fffffff;
/** Ids reserved per write of the id file: one fsync per thousand producers. */
const ID_BLOCK = 1000;
const ID_FILE = 'producer-ids.json';

/** What to do with an idempotent batch. */
export type SequenceVerdict =
  { kind: 'append' } | { kind: 'duplicate'; baseOffset: number } | { kind: 'error'; code: number };

/**
 * Producer ids and sequence checks.
 *
 * @example
 * const table = new ProducerTable(log.dir);
 * const { producerId, producerEpoch } = table.init(-1, -1);
 * table.check(producerId, producerEpoch, 0, 10, log.partition('orders', 0).producers()); // { kind: 'append' }
 */
export class ProducerTable {
  private nextId: number;
  /** Ids below this are reserved in the id file (or the table has no file). */
  private reservedUpTo: number;
  /** Epochs of the producers this broker issued or saw since it started. */
  private readonly epochs = new Map<number, number>();

  /** `dir`: where the id file lives (the log directory); null keeps ids in memory only. */
  constructor(private readonly dir: string | null) {
    // The clock as a floor keeps ids unique even if the id file is lost (a thousand ids per
    // millisecond before it could catch up with a restart).
    const floor = Date.now() * 1000;
    const saved = dir === null ? 0 : readReserved(join(dir, ID_FILE));
    this.nextId = Math.max(floor, saved);
    this.reservedUpTo = dir === null ? Number.MAX_SAFE_INTEGER : this.nextId;
  }

  /** InitProducerId: a new id, or the same id with a bumped epoch when the caller presents its current one. */
  init(
    producerId: number,
    producerEpoch: number,
  ): { code: number; producerId: number; producerEpoch: number } {
    if (producerId >= 0) {
      const epoch = this.epochs.get(producerId);
      if (epoch !== undefined && epoch === producerEpoch && epoch < 0x7ffe) {
        this.epochs.set(producerId, epoch + 1);
        return { code: 0, producerId, producerEpoch: epoch + 1 };
      }
      if (epoch !== undefined && epoch !== producerEpoch) {
        return { code: KafkaCode.INVALID_PRODUCER_EPOCH, producerId: -1, producerEpoch: -1 };
      }
    }
    const id = this.nextId;
    if (id >= this.reservedUpTo) {
      // Reserved on disk before it is handed out: after a crash the broker starts past it.
      this.reservedUpTo = id + ID_BLOCK;
      writeFileAtomic(
        join(this.dir!, ID_FILE),
        `${JSON.stringify({ version: 1, reservedUpTo: this.reservedUpTo })}\n`,
      );
    }
    this.nextId = id + 1;
    this.epochs.set(id, 0);
    return { code: 0, producerId: id, producerEpoch: 0 };
  }

  /** Checks a batch of `count` records starting at `baseSeq` against the partition's producer state. */
  check(
    producerId: number,
    epoch: number,
    baseSeq: number,
    count: number,
    states: ProducerStates,
  ): SequenceVerdict {
    const known = this.epochs.get(producerId);
    if (known !== undefined && epoch < known)
      return { kind: 'error', code: KafkaCode.INVALID_PRODUCER_EPOCH };
    const state = states.get(producerId);
    if (state === undefined || epoch > state.epoch) {
      // A new producer here, or a new epoch: its sequence starts at 0. An id whose state is gone
      // (forgotten, or removed with old segments) is taken as it comes, as Kafka does.
      if (baseSeq === 0 || known === undefined) return { kind: 'append' };
      return { kind: 'error', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    if (epoch < state.epoch) return { kind: 'error', code: KafkaCode.INVALID_PRODUCER_EPOCH };
    const last = lastSequenceOf(baseSeq, count);
    for (const b of state.recent) {
      if (b.firstSeq === baseSeq && b.lastSeq === last)
        return { kind: 'duplicate', baseOffset: b.baseOffset };
    }
    const expected = state.lastSeq === MAX_SEQ ? 0 : state.lastSeq + 1;
    if (baseSeq !== expected) return { kind: 'error', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    return { kind: 'append' };
  }

  /** Notes the epoch of an appended batch (a producer seen after a restart gets its epoch known). */
  appended(producerId: number, epoch: number): void {
    if ((this.epochs.get(producerId) ?? -1) < epoch) this.epochs.set(producerId, epoch);
  }
}

/** The reserved bound saved in the id file; 0 when there is none yet. */
function readReserved(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let reserved: unknown;
  try {
    reserved = (JSON.parse(text) as { reservedUpTo?: unknown }).reservedUpTo;
  } catch {
    reserved = undefined;
  }
  if (!Number.isSafeInteger(reserved) || (reserved as number) < 0) {
    throw new BrokerError(
      'SLUICE_BROKER_INVALID_OPTION',
      `${path} is damaged (expected {"version":1,"reservedUpTo":<n>}); restore it, or delete it to fall back on clock-based producer ids`,
    );
  }
  return reserved as number;
}
