/**
 * Card precision top-k, the Fraud Detection Handbook's operational metric: each day, the k
 * cards (customers) with the highest fraud score that day (a card's score = its highest
 * transaction score) go to investigators, and the precision is the share of them that had a
 * fraud that day. Cards found compromised are removed from the following days' rankings (they
 * are blocked). The result is the mean over days.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Envelope, Sink } from '../../src/index.js';

const DAY = 86_400_000;

/** Per-day card precision@k over transactions (score, label, card, time); mean and per-day values. */
export function cardPrecisionAtK(
  rows: {
    scores: ArrayLike<number>;
    labels: ArrayLike<number>;
    cards: ArrayLike<number>;
    times: ArrayLike<number>;
  },
  k = 100,
): { mean: number; perDay: number[] } {
  const byDay = new Map<number, Map<number, { score: number; fraud: number }>>();
  for (let i = 0; i < rows.scores.length; i++) {
    const day = Math.floor(rows.times[i]! / DAY);
    let cards = byDay.get(day);
    if (!cards) byDay.set(day, (cards = new Map()));
    const c = cards.get(rows.cards[i]!);
    if (!c) cards.set(rows.cards[i]!, { score: rows.scores[i]!, fraud: rows.labels[i]! });
    else {
      c.score = Math.max(c.score, rows.scores[i]!);
      c.fraud = Math.max(c.fraud, rows.labels[i]!);
    }
  }
  const blocked = new Set<number>();
  const perDay: number[] = [];
  for (const day of [...byDay.keys()].sort((a, b) => a - b)) {
    const ranked = [...byDay.get(day)!.entries()]
      .filter(([card]) => !blocked.has(card))
      .sort((a, b) => b[1].score - a[1].score || a[0] - b[0])
      .slice(0, k);
    let hits = 0;
    for (const [card, c] of ranked) {
      if (c.fraud) {
        hits++;
        blocked.add(card);
      }
    }
    perDay.push(hits / k);
  }
  const mean = perDay.length ? perDay.reduce((a, b) => a + b, 0) / perDay.length : NaN;
  return { mean, perDay };
}

/**
 * Records each transaction's card at its log offset (int32 + 1, 0 = never written), beside the
 * demo's score recorder, so card precision can be computed over a whole run, restarts included.
 */
export class CardRecorder implements Sink<{ tx: { customerId: number } }> {
  readonly name = 'cards';
  private readonly fd: number;
  private dirty = false;

  constructor(readonly path: string) {
    closeSync(openSync(path, 'a+'));
    this.fd = openSync(path, 'r+');
  }

  write(records: Envelope<{ tx: { customerId: number } }>[]): void {
    let i = 0;
    while (i < records.length) {
      let j = i + 1;
      while (j < records.length && records[j]!.offset === records[j - 1]!.offset + 1) j++;
      const buf = Buffer.alloc((j - i) * 4);
      for (let k = i; k < j; k++) buf.writeInt32LE(records[k]!.value.tx.customerId + 1, (k - i) * 4);
      writeSync(this.fd, buf, 0, buf.length, records[i]!.offset * 4);
      i = j;
    }
    this.dirty = true;
  }

  flush(): void {
    if (this.dirty) fsyncSync(this.fd);
    this.dirty = false;
  }

  async close(): Promise<void> {
    this.flush();
    closeSync(this.fd);
  }

  /** The card of each offset (−1 where none was recorded). */
  static read(path: string): Int32Array {
    const buf = readFileSync(path);
    const out = new Int32Array(buf.length >> 2);
    for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4) - 1;
    return out;
  }
}
