// What read_committed fetches need from the transaction coordinator, per partition: the first
// offsets of the transactions still open there (the last stable offset is the lowest of them)
// and the aborted transactions (so a consumer drops their records).

import type { AbortedTxn, TxnRecord } from './state-file.js';

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Open and aborted transactions by partition.
 *
 * @example
 * const index = new TxnIndex();
 * index.rebuild(txns);
 * index.lastStableOffset('orders', 0, 120); // 100 while a transaction that started at 100 is open
 */
export class TxnIndex {
  /** Per partition: producer id -> first offset of its open transaction. */
  private open = new Map<string, Map<number, number>>();
  /** Per partition: aborted transactions in marker order. */
  private readonly aborted = new Map<string, AbortedTxn[]>();

  /** Takes the saved aborted transactions, dropping those wholly below their partition's log start (or of deleted partitions). */
  load(list: AbortedTxn[], logStart: (topic: string, partition: number) => number | null): void {
    for (const a of list) {
      const start = logStart(a.topic, a.partition);
      if (start !== null && a.lastOffset >= start) this.addAborted([a]);
    }
  }

  /** Recomputes the open transactions from the coordinator's records. */
  rebuild(txns: Iterable<TxnRecord>): void {
    const open = new Map<string, Map<number, number>>();
    for (const t of txns) {
      if (t.status === 'Empty') continue;
      for (const p of t.partitions) {
        const k = key(p.topic, p.partition);
        let m = open.get(k);
        if (m === undefined) open.set(k, (m = new Map()));
        m.set(t.producerId, Math.min(m.get(t.producerId) ?? Infinity, p.firstOffset));
      }
    }
    this.open = open;
  }

  addAborted(list: AbortedTxn[]): void {
    for (const a of list) {
      const k = key(a.topic, a.partition);
      const l = this.aborted.get(k);
      if (l === undefined) this.aborted.set(k, [a]);
      else l.push(a);
    }
  }

  abortedList(): AbortedTxn[] {
    return [...this.aborted.values()].flat();
  }

  lastStableOffset(topic: string, partition: number, highWatermark: number): number {
    const m = this.open.get(key(topic, partition));
    if (m === undefined) return highWatermark;
    let lso = highWatermark;
    for (const first of m.values()) if (first < lso) lso = first;
    return lso;
  }

  /** Aborted transactions whose records overlap [from, to): what Fetch lists as aborted_transactions. */
  abortedIn(
    topic: string,
    partition: number,
    from: number,
    to: number,
  ): { producerId: number; firstOffset: number }[] {
    const l = this.aborted.get(key(topic, partition));
    if (l === undefined) return [];
    const out: { producerId: number; firstOffset: number }[] = [];
    for (const a of l) {
      if (a.lastOffset >= from && a.firstOffset < to)
        out.push({ producerId: a.producerId, firstOffset: a.firstOffset });
    }
    return out;
  }
}
