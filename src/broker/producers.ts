// Idempotent producers: producer ids from InitProducerId, and per (producer, partition) the
// sequence numbers of the last batches, so a retried batch is answered with its first offset
// instead of being written twice, and a gap or a stale epoch is refused.

import { KafkaCode } from './protocol/error-codes.js';

/** Batches remembered per producer and partition (Kafka keeps 5: the clients' max in flight). */
const RECENT = 5;
const MAX_SEQ = 0x7fffffff;
/** Bound on tracked (producer, partition) pairs; the oldest are forgotten first. */
const MAX_TRACKED = 100_000;

interface SeqState {
  epoch: number;
  lastSeq: number;
  recent: { first: number; last: number; baseOffset: number }[];
}

/** What to do with an idempotent batch. */
export type SequenceVerdict =
  { kind: 'append' } | { kind: 'duplicate'; baseOffset: number } | { kind: 'error'; code: number };

/**
 * Producer ids and sequence checks.
 *
 * @example
 * const table = new ProducerTable();
 * const { producerId, producerEpoch } = table.init(-1, -1);
 * table.check(producerId, producerEpoch, 0, 10, 'orders', 0); // { kind: 'append' }
 */
export class ProducerTable {
  // Seeded from the clock so ids stay unique across restarts without a state file
  // (a thousand ids per millisecond before it could catch up with a restart).
  private nextId = Date.now() * 1000;
  private readonly epochs = new Map<number, number>();
  private readonly seqs = new Map<string, SeqState>();

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
    const id = Math.max(this.nextId, Date.now() * 1000);
    this.nextId = id + 1;
    this.epochs.set(id, 0);
    return { code: 0, producerId: id, producerEpoch: 0 };
  }

  /** Checks a batch of `count` records starting at `baseSeq` against what this producer sent before. */
  check(
    producerId: number,
    epoch: number,
    baseSeq: number,
    count: number,
    topic: string,
    partition: number,
  ): SequenceVerdict {
    const known = this.epochs.get(producerId);
    if (known !== undefined && epoch < known)
      return { kind: 'error', code: KafkaCode.INVALID_PRODUCER_EPOCH };
    const state = this.seqs.get(key(producerId, topic, partition));
    if (state === undefined || epoch > state.epoch) {
      // A new producer here, or a new epoch: its sequence starts at 0. An id this broker never
      // issued (state lost in a restart) is taken as it comes, as Kafka does after state expiry.
      if (baseSeq === 0 || known === undefined) return { kind: 'append' };
      return { kind: 'error', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    if (epoch < state.epoch) return { kind: 'error', code: KafkaCode.INVALID_PRODUCER_EPOCH };
    const last = lastSeqOf(baseSeq, count);
    for (const b of state.recent) {
      if (b.first === baseSeq && b.last === last) return { kind: 'duplicate', baseOffset: b.baseOffset };
    }
    const expected = state.lastSeq === MAX_SEQ ? 0 : state.lastSeq + 1;
    if (baseSeq !== expected) return { kind: 'error', code: KafkaCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    return { kind: 'append' };
  }

  /** Records an appended batch (after `check` said 'append' and the log took it). */
  record(
    producerId: number,
    epoch: number,
    baseSeq: number,
    count: number,
    topic: string,
    partition: number,
    baseOffset: number,
  ): void {
    const k = key(producerId, topic, partition);
    let state = this.seqs.get(k);
    if (state === undefined || epoch !== state.epoch) {
      state = { epoch, lastSeq: -1, recent: [] };
    }
    this.seqs.delete(k); // re-inserted last: Map order doubles as least-recently-used order
    const last = lastSeqOf(baseSeq, count);
    state.lastSeq = last;
    state.recent.push({ first: baseSeq, last, baseOffset });
    if (state.recent.length > RECENT) state.recent.shift();
    this.seqs.set(k, state);
    if (!this.epochs.has(producerId) || (this.epochs.get(producerId) ?? 0) < epoch) {
      this.epochs.set(producerId, epoch);
    }
    if (this.seqs.size > MAX_TRACKED) this.seqs.delete(this.seqs.keys().next().value as string);
  }

  /** Forgets the sequences of a deleted topic. */
  forgetTopic(topic: string): void {
    for (const k of this.seqs.keys()) if (k.split('\u0000')[1] === topic) this.seqs.delete(k);
  }
}

function key(producerId: number, topic: string, partition: number): string {
  return `${producerId}\u0000${topic}\u0000${partition}`;
}

function lastSeqOf(baseSeq: number, count: number): number {
  const last = baseSeq + count - 1;
  return last > MAX_SEQ ? last - MAX_SEQ - 1 : last;
}
