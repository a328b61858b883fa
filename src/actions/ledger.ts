import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** One action effect, as the ledger records it. */
export interface LedgerEntry {
  /** Deterministic idempotency key: (pipeline, action, record id). */
  key: string;
  action: string;
  payload: unknown;
  /** When it was first done, epoch ms (not part of the digest: it differs between runs). */
  time: number;
}

/**
 * The action ledger: an append-only JSON-lines file of done actions, keyed by idempotency key.
 * `record()` skips keys it already holds, so a record replayed after a crash never produces a
 * second effect. A torn last line (a crash mid-write) is cut on open.
 *
 * @example
 * const ledger = ActionLedger.open('./data/actions.jsonl');
 * ledger.record([{ key: 'fraud/alert/tx-0@7', action: 'alert', payload: { score: 0.97 }, time: Date.now() }]);
 * ledger.has('fraud/alert/tx-0@7'); // true
 */
export class ActionLedger {
  private readonly keys = new Map<string, LedgerEntry>();
  private fd: number;
  private dirty = false;
  /** Bytes cut from a torn tail on open (0 when the file was whole). */
  readonly recoveredBytes: number;

  private constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    const existed = existsSync(path);
    this.fd = openSync(path, existed ? 'r+' : 'w+');
    this.recoveredBytes = existed ? this.load() : 0;
  }

  static open(path: string): ActionLedger {
    return new ActionLedger(path);
  }

  private load(): number {
    const buf = readFileSync(this.path);
    let pos = 0;
    let valid = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break; // no newline: a torn last line
      try {
        const e = JSON.parse(buf.toString('utf8', pos, nl)) as LedgerEntry;
        this.keys.set(e.key, e);
      } catch {
        break; // a corrupt line can only be the torn tail; everything before it is kept
      }
      pos = nl + 1;
      valid = pos;
    }
    if (valid < buf.length) ftruncateSync(this.fd, valid);
    this.end = valid;
    return buf.length - valid;
  }

  private end = 0;

  has(key: string): boolean {
    return this.keys.has(key);
  }

  get size(): number {
    return this.keys.size;
  }

  /**
   * Appends the entries whose keys are new (one write for all of them) and returns them;
   * entries with known keys are skipped.
   */
  record(entries: LedgerEntry[]): LedgerEntry[] {
    const fresh: LedgerEntry[] = [];
    let text = '';
    for (const e of entries) {
      if (this.keys.has(e.key)) continue;
      this.keys.set(e.key, e);
      fresh.push(e);
      text += JSON.stringify(e) + '\n';
    }
    if (text.length > 0) {
      const bytes = Buffer.from(text, 'utf8');
      writeSync(this.fd, bytes, 0, bytes.length, this.end);
      this.end += bytes.length;
      this.dirty = true;
    }
    return fresh;
  }

  /** Makes every recorded entry durable (fsync). */
  flush(): void {
    if (!this.dirty) return;
    fsyncSync(this.fd);
    this.dirty = false;
  }

  entries(): IterableIterator<LedgerEntry> {
    return this.keys.values();
  }

  /**
   * SHA-256 (hex) over the sorted (key, payload) pairs: two runs that did the same actions have
   * the same digest, whatever their timing, crashes and replays.
   */
  digest(): string {
    const h = createHash('sha256');
    const sorted = [...this.keys.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const e of sorted) h.update(`${e.key}\t${JSON.stringify(e.payload)}\n`);
    return h.digest('hex');
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
