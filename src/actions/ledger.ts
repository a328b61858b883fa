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

/** Keys remembered for deduplication by default: hours of actions at thousands per second. */
export const DEFAULT_DEDUP_WINDOW = 1_000_000;

export interface ActionLedgerOptions {
  /**
   * How many of the most recent keys are kept in memory to skip replays (default 1,000,000).
   * A replay after a crash only covers records since the last checkpoint, so a window of recent
   * keys is enough, and memory stays bounded however long the pipeline runs.
   */
  dedupWindow?: number;
}

/**
 * The action ledger: an append-only JSON-lines file of done actions, keyed by idempotency key.
 * `record()` skips keys among the most recent `dedupWindow` it holds, so a record replayed after
 * a crash never produces a second effect. Only keys live in memory; entries and the digest are
 * read back from the file. A torn last line (a crash mid-write) is cut on open.
 *
 * @example
 * const ledger = ActionLedger.open('./data/actions.jsonl');
 * ledger.record([{ key: 'fraud/alert/tx-0@7', action: 'alert', payload: { score: 0.97 }, time: Date.now() }]);
 * ledger.has('fraud/alert/tx-0@7'); // true
 */
export class ActionLedger {
  /** Recent keys, oldest first (a Set keeps insertion order): evicted from the front. */
  private readonly recent = new Set<string>();
  private count = 0;
  private fd: number;
  private dirty = false;
  private end = 0;
  private readonly window: number;
  /** Bytes cut from a torn tail on open (0 when the file was whole). */
  readonly recoveredBytes: number;

  private constructor(
    readonly path: string,
    opts: ActionLedgerOptions,
  ) {
    this.window = opts.dedupWindow ?? DEFAULT_DEDUP_WINDOW;
    if (!Number.isInteger(this.window) || this.window < 1)
      throw new RangeError(`dedupWindow must be a positive integer, got ${opts.dedupWindow}`);
    mkdirSync(dirname(path), { recursive: true });
    const existed = existsSync(path);
    this.fd = openSync(path, existed ? 'r+' : 'w+');
    this.recoveredBytes = existed ? this.load() : 0;
  }

  static open(path: string, opts: ActionLedgerOptions = {}): ActionLedger {
    return new ActionLedger(path, opts);
  }

  /** The whole lines of the file, parsed, and where they end (a torn or corrupt tail stops it). */
  private *scan(buf: Buffer): Generator<[LedgerEntry, number]> {
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) return; // no newline: a torn last line
      let e: LedgerEntry;
      try {
        e = JSON.parse(buf.toString('utf8', pos, nl)) as LedgerEntry;
      } catch {
        return; // a corrupt line can only be the torn tail; everything before it is kept
      }
      pos = nl + 1;
      yield [e, pos];
    }
  }

  private load(): number {
    const buf = readFileSync(this.path);
    let valid = 0;
    for (const [e, end] of this.scan(buf)) {
      this.remember(e.key);
      this.count++;
      valid = end;
    }
    if (valid < buf.length) ftruncateSync(this.fd, valid);
    this.end = valid;
    return buf.length - valid;
  }

  private remember(key: string): void {
    this.recent.add(key);
    if (this.recent.size > this.window) this.recent.delete(this.recent.values().next().value!);
  }

  has(key: string): boolean {
    return this.recent.has(key);
  }

  /** Entries recorded. */
  get size(): number {
    return this.count;
  }

  /**
   * Appends the entries whose keys are new (one write for all of them) and returns them;
   * entries with known keys are skipped.
   */
  record(entries: LedgerEntry[]): LedgerEntry[] {
    const fresh: LedgerEntry[] = [];
    let text = '';
    for (const e of entries) {
      if (this.recent.has(e.key)) continue;
      this.remember(e.key);
      fresh.push(e);
      text += JSON.stringify(e) + '\n';
    }
    if (text.length > 0) {
      const bytes = Buffer.from(text, 'utf8');
      writeSync(this.fd, bytes, 0, bytes.length, this.end);
      this.end += bytes.length;
      this.count += fresh.length;
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

  /** Every recorded entry, read back from the file in the order recorded. */
  *entries(): Generator<LedgerEntry> {
    // By path, so that it also works once closed (demos digest after closing).
    for (const [e] of this.scan(readFileSync(this.path).subarray(0, this.end))) yield e;
  }

  /**
   * SHA-256 (hex) over the sorted (key, payload) pairs: two runs that did the same actions have
   * the same digest, whatever their timing, crashes and replays.
   */
  digest(): string {
    const lines = new Map<string, string>();
    for (const e of this.entries())
      if (!lines.has(e.key)) lines.set(e.key, `${e.key}\t${JSON.stringify(e.payload)}\n`);
    const h = createHash('sha256');
    for (const k of [...lines.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) h.update(lines.get(k)!);
    return h.digest('hex');
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
