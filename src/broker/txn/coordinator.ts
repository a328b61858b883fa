// The transaction coordinator (KIP-98) of this single broker: transactional ids mapped to
// producer ids and epochs, their current transactions (partitions, consumer groups, pending
// offsets), the transaction markers that end them, and what read_committed fetches need: each
// partition's last stable offset and its aborted transactions. Every change that matters after
// a crash is saved (txn-state.json, see state-file.ts) before it is answered; on start,
// transactions caught between their decision and their markers are finished, and open ones are
// aborted when their timeout passes, so no partition's last stable offset stays stuck.

import type { Log } from '../../log/index.js';
import type { AppendNotifier } from '../append-notifier.js';
import type { ProducerTable } from '../producers.js';
import { KafkaCode } from '../protocol/error-codes.js';
import type { TopicManager } from '../topics.js';
import { TxnIndex } from './txn-index.js';
import {
  readTxnState,
  writeTxnState,
  type AbortedTxn,
  type PendingOffset,
  type TxnRecord,
} from './state-file.js';

/** Kafka's transaction.max.timeout.ms default: longer timeouts are refused. */
export const MAX_TXN_TIMEOUT_MS = 900_000;
const MAX_EPOCH = 0x7ffe;
/** How often open transactions are checked against their timeout. */
const TIMEOUT_CHECK_MS = 1_000;

/** The current transaction of a transactional id, or the error code that refuses the request. */
type Lookup = { txn: TxnRecord; code: 0 } | { txn: null; code: number };

export interface TxnDeps {
  log: Log;
  producers: ProducerTable;
  topics: TopicManager;
  appends: AppendNotifier;
  warn(message: string): void;
}

/**
 * Transactions of transactional producers.
 *
 * @example
 * const txns = new TransactionCoordinator({ log, producers, topics, appends, warn: console.warn });
 * const { producerId, producerEpoch } = txns.initProducerId('orders-app', 60_000, -1, -1, KafkaCode.PRODUCER_FENCED);
 * txns.addPartitions('orders-app', producerId, producerEpoch, [{ topic: 'orders', partition: 0 }], 90);
 * txns.endTxn('orders-app', producerId, producerEpoch, true, 90); // 0: committed
 */
export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnRecord>();
  private readonly index = new TxnIndex();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: TxnDeps) {
    const saved = readTxnState(deps.log.dir);
    for (const t of saved.txns) {
      this.txns.set(t.transactionalId, t);
      deps.producers.appended(t.producerId, t.producerEpoch); // older epochs stay fenced
    }
    this.index.load(saved.aborted, (topic, partition) => this.logStart(topic, partition));
    this.index.rebuild(this.txns.values());
    // Decided before the crash but not all markers written: finish them now.
    for (const t of this.txns.values()) if (t.status.startsWith('Prepare')) this.tryComplete(t);
    this.timer = setInterval(() => this.expire(Date.now()), TIMEOUT_CHECK_MS).unref();
  }

  /** InitProducerId with a transactional id: a producer id, and a new epoch fencing the older ones. */
  initProducerId(
    transactionalId: string,
    timeoutMs: number,
    producerId: number,
    producerEpoch: number,
    fenced: number,
  ): { code: number; producerId: number; producerEpoch: number } {
    const refused = (code: number) => ({ code, producerId: -1, producerEpoch: -1 });
    if (transactionalId === '') return refused(KafkaCode.INVALID_REQUEST);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TXN_TIMEOUT_MS)
      return refused(KafkaCode.INVALID_TRANSACTION_TIMEOUT);
    let txn = this.txns.get(transactionalId);
    if (txn !== undefined && producerId >= 0) {
      // KIP-360: a producer that presents its id and epoch must present the current ones.
      if (producerId !== txn.producerId) return refused(KafkaCode.INVALID_PRODUCER_ID_MAPPING);
      if (producerEpoch < txn.producerEpoch) return refused(fenced);
      if (producerEpoch > txn.producerEpoch) return refused(KafkaCode.INVALID_PRODUCER_EPOCH);
    }
    if (txn !== undefined && txn.status.startsWith('Prepare') && !this.tryComplete(txn))
      return refused(KafkaCode.CONCURRENT_TRANSACTIONS);
    if (txn === undefined) {
      const fresh = this.deps.producers.init(-1, -1);
      if (fresh.code !== 0) return refused(fresh.code);
      txn = {
        transactionalId,
        producerId: fresh.producerId,
        producerEpoch: fresh.producerEpoch,
        timeoutMs,
        status: 'Empty',
        startedAt: 0,
        partitions: [],
        groups: [],
        offsets: [],
        lastEnd: null,
      };
      this.txns.set(transactionalId, txn);
    } else {
      // A new producer instance with this id: whatever the old one left open is aborted, and its
      // epoch is fenced from here on.
      this.bumpEpoch(txn);
      if (txn.status === 'Ongoing' && !this.end(txn, false))
        return refused(KafkaCode.CONCURRENT_TRANSACTIONS);
      txn.timeoutMs = timeoutMs;
      txn.lastEnd = null;
    }
    this.save();
    return { code: 0, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
  }

  /** AddPartitionsToTxn: one error code per partition (all the same when the request is refused). */
  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: { topic: string; partition: number }[],
    fenced: number,
  ): number[] {
    const found = this.lookup(transactionalId, producerId, producerEpoch, fenced);
    if (found.txn === null) return partitions.map(() => found.code);
    const txn = found.txn;
    const codes = partitions.map((p) => this.deps.topics.partition(p.topic, p.partition).code);
    // Kafka adds none when any is unknown: the others are answered OPERATION_NOT_ATTEMPTED (55).
    if (codes.some((c) => c !== 0)) return codes.map((c) => (c === 0 ? 55 : c));
    let changed = false;
    for (const p of partitions) {
      if (txn.partitions.some((q) => q.topic === p.topic && q.partition === p.partition)) continue;
      const hw = this.deps.topics.partition(p.topic, p.partition).partition!.highWatermark;
      this.begin(txn);
      txn.partitions.push({ topic: p.topic, partition: p.partition, firstOffset: hw });
      changed = true;
    }
    if (changed) this.saveAndIndex();
    return codes;
  }

  /** AddOffsetsToTxn: the group's offsets will be committed with this transaction. */
  addOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
    fenced: number,
  ): number {
    if (groupId === '') return KafkaCode.INVALID_GROUP_ID;
    const found = this.lookup(transactionalId, producerId, producerEpoch, fenced);
    if (found.txn === null) return found.code;
    if (!found.txn.groups.includes(groupId)) {
      this.begin(found.txn);
      found.txn.groups.push(groupId);
      this.saveAndIndex();
    }
    return 0;
  }

  /** TxnOffsetCommit: offsets held until the transaction commits (dropped if it aborts). */
  commitOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
    offsets: Omit<PendingOffset, 'groupId'>[],
    fenced: number,
  ): number {
    const found = this.lookup(transactionalId, producerId, producerEpoch, fenced);
    if (found.txn === null) return found.code;
    const txn = found.txn;
    if (txn.status !== 'Ongoing' || !txn.groups.includes(groupId)) return KafkaCode.INVALID_TXN_STATE;
    for (const o of offsets) {
      const same = (q: PendingOffset) =>
        q.groupId === groupId && q.topic === o.topic && q.partition === o.partition;
      txn.offsets = txn.offsets.filter((q) => !same(q));
      txn.offsets.push({ groupId, ...o });
    }
    this.save(); // a commit after a restart must still carry them
    return 0;
  }

  /** EndTxn: commits or aborts the current transaction (markers written before the answer). */
  endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    fenced: number,
  ): number {
    const found = this.lookup(transactionalId, producerId, producerEpoch, fenced);
    if (found.txn === null) return found.code;
    const txn = found.txn;
    const kind = commit ? 'commit' : 'abort';
    if (txn.status === 'Empty') return txn.lastEnd === kind ? 0 : KafkaCode.INVALID_TXN_STATE;
    if (txn.status === (commit ? 'PrepareAbort' : 'PrepareCommit')) return KafkaCode.INVALID_TXN_STATE;
    return this.end(txn, commit) ? 0 : KafkaCode.COORDINATOR_NOT_AVAILABLE;
  }

  /** Whether a transactional producer may write to this partition now: 0, or the error code. */
  checkProduce(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): number {
    const found = this.lookup(transactionalId, producerId, producerEpoch, KafkaCode.INVALID_PRODUCER_EPOCH);
    if (found.txn === null) return found.code;
    const added = found.txn.partitions.some((p) => p.topic === topic && p.partition === partition);
    return found.txn.status === 'Ongoing' && added ? 0 : KafkaCode.INVALID_TXN_STATE;
  }

  /** The offset below which every transaction in the partition has ended. */
  lastStableOffset(topic: string, partition: number, highWatermark: number): number {
    return this.index.lastStableOffset(topic, partition, highWatermark);
  }

  /** Aborted transactions with records in [from, to), for a read_committed fetch. */
  abortedIn(topic: string, partition: number, from: number, to: number) {
    return this.index.abortedIn(topic, partition, from, to);
  }

  /** Stops the timeout checks (broker shutdown). */
  close(): void {
    clearInterval(this.timer);
  }

  /** Aborts the transactions past their timeout (fencing their producer), retries unfinished ends. */
  expire(now: number): void {
    for (const txn of this.txns.values()) {
      if (txn.status.startsWith('Prepare')) this.tryComplete(txn);
      else if (txn.status === 'Ongoing' && now - txn.startedAt > txn.timeoutMs) {
        this.deps.warn(
          `sluice broker: transaction of ${JSON.stringify(txn.transactionalId)} timed out after ${txn.timeoutMs} ms: aborted, producer epoch ${txn.producerEpoch} fenced`,
        );
        this.bumpEpoch(txn);
        this.end(txn, false);
      }
    }
  }

  private lookup(transactionalId: string, producerId: number, epoch: number, fenced: number): Lookup {
    const txn = this.txns.get(transactionalId);
    if (txn === undefined || txn.producerId !== producerId)
      return { txn: null, code: KafkaCode.INVALID_PRODUCER_ID_MAPPING };
    if (epoch < txn.producerEpoch) return { txn: null, code: fenced };
    if (epoch > txn.producerEpoch) return { txn: null, code: KafkaCode.INVALID_PRODUCER_EPOCH };
    if (txn.status.startsWith('Prepare')) return { txn: null, code: KafkaCode.CONCURRENT_TRANSACTIONS };
    return { txn, code: 0 };
  }

  private begin(txn: TxnRecord): void {
    if (txn.status !== 'Empty') return;
    txn.status = 'Ongoing';
    txn.startedAt = Date.now();
    txn.lastEnd = null;
  }

  private bumpEpoch(txn: TxnRecord): void {
    if (txn.producerEpoch >= MAX_EPOCH) {
      const fresh = this.deps.producers.init(-1, -1); // epochs used up: a new producer id
      if (fresh.code === 0) {
        txn.producerId = fresh.producerId;
        txn.producerEpoch = fresh.producerEpoch;
        return;
      }
    }
    txn.producerEpoch += 1;
    this.deps.producers.appended(txn.producerId, txn.producerEpoch);
  }

  /** Decides (saved), then writes the markers; false when they could not all be written yet. */
  private end(txn: TxnRecord, commit: boolean): boolean {
    txn.status = commit ? 'PrepareCommit' : 'PrepareAbort';
    this.save();
    return this.tryComplete(txn);
  }

  /** Writes a Prepare* transaction's markers and offsets, then saves it as ended. */
  private tryComplete(txn: TxnRecord): boolean {
    const commit = txn.status === 'PrepareCommit';
    const aborted: AbortedTxn[] = [];
    try {
      const marker = {
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        commit,
        coordinatorEpoch: 0,
      };
      const written: { topic: string; partition: number }[] = [];
      for (const p of txn.partitions) {
        const found = this.deps.topics.partition(p.topic, p.partition);
        if (found.partition === null) continue; // deleted since: nothing left to mark
        const offset = found.partition.appendControl(marker);
        // A marker must be on disk before the transaction is saved as ended.
        found.partition.flush();
        written.push(p);
        if (!commit) aborted.push({ ...p, producerId: txn.producerId, lastOffset: offset });
      }
      if (commit) this.applyOffsets(txn.offsets);
      txn.lastEnd = commit ? 'commit' : 'abort';
      txn.status = 'Empty';
      txn.partitions = [];
      txn.groups = [];
      txn.offsets = [];
      this.index.addAborted(aborted);
      this.saveAndIndex();
      for (const p of written) this.deps.appends.appended(p.topic, p.partition);
      return true;
    } catch (err) {
      this.deps.warn(
        `sluice broker: ending the transaction of ${JSON.stringify(txn.transactionalId)} failed (retried): ${(err as Error).message}`,
      );
      return false;
    }
  }

  private applyOffsets(offsets: PendingOffset[]): void {
    const byGroup = new Map<string, PendingOffset[]>();
    for (const o of offsets) {
      if (o.offset < 0) continue;
      byGroup.set(o.groupId, [...(byGroup.get(o.groupId) ?? []), o]);
    }
    for (const [groupId, list] of byGroup) {
      this.deps.log.offsets.commitMany(
        groupId,
        list.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          ...(o.metadata === null ? {} : { metadata: o.metadata }),
        })),
      );
    }
  }

  private logStart(topic: string, partition: number): number | null {
    const found = this.deps.topics.partition(topic, partition);
    return found.partition === null ? null : found.partition.logStartOffset;
  }

  private saveAndIndex(): void {
    this.index.rebuild(this.txns.values());
    this.save();
  }

  private save(): void {
    writeTxnState(this.deps.log.dir, { txns: [...this.txns.values()], aborted: this.index.abortedList() });
  }
}
