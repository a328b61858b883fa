import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Envelope, Sink } from '../../index.js';

export interface Scored {
  score: number;
  fraud: number;
  tx: { ts: number; customerId: number };
}

const RECORD_BYTES = 24;

/**
 * Records each transaction's score, label, event time and card at its log offset (24 bytes a
 * record: float32 score, float32 label + 1 so that zeros mark an offset never scored, float64
 * event time, float64 card). Writing by position makes replays after a crash idempotent, so
 * quality (ROC-AUC, AP, card precision) covers the whole stream however many restarts it took.
 */
export class ScoreRecorder implements Sink<Scored> {
  readonly name = 'scores';
  private readonly fd: number;
  private buf = Buffer.alloc(RECORD_BYTES * 1024);
  private dirty = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a+');
    closeSync(this.fd);
    this.fd = openSync(path, 'r+');
  }

  write(records: Envelope<Scored>[]): void {
    // Records of a batch are consecutive offsets of one partition except where some were
    // filtered or dead-lettered; write each run of consecutive offsets at once.
    let i = 0;
    while (i < records.length) {
      let j = i + 1;
      while (j < records.length && records[j]!.offset === records[j - 1]!.offset + 1) j++;
      const n = j - i;
      if (this.buf.length < n * RECORD_BYTES) this.buf = Buffer.alloc(n * RECORD_BYTES * 2);
      for (let k = 0; k < n; k++) {
        const v = records[i + k]!.value;
        const at = k * RECORD_BYTES;
        this.buf.writeFloatLE(v.score, at);
        this.buf.writeFloatLE(v.fraud + 1, at + 4);
        this.buf.writeDoubleLE(v.tx.ts, at + 8);
        this.buf.writeDoubleLE(v.tx.customerId, at + 16);
      }
      writeSync(this.fd, this.buf, 0, n * RECORD_BYTES, records[i]!.offset * RECORD_BYTES);
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

  /** Scores, labels, event times and cards of every recorded offset (gaps, e.g. dead letters, left out). */
  static read(path: string): {
    offsets: number[];
    scores: number[];
    labels: number[];
    times: number[];
    cards: number[];
  } {
    const buf = readFileSync(path);
    const out = {
      offsets: [] as number[],
      scores: [] as number[],
      labels: [] as number[],
      times: [] as number[],
      cards: [] as number[],
    };
    for (let o = 0; (o + 1) * RECORD_BYTES <= buf.length; o++) {
      const at = o * RECORD_BYTES;
      const label = buf.readFloatLE(at + 4);
      if (label === 0) continue;
      out.offsets.push(o);
      out.scores.push(buf.readFloatLE(at));
      out.labels.push(label - 1);
      out.times.push(buf.readDoubleLE(at + 8));
      out.cards.push(buf.readDoubleLE(at + 16));
    }
    return out;
  }
}
