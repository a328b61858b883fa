import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import { damagedKey, encodeLine, scanLines } from './ledger-lines.js';

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
  /** Receives the report of damaged entries set aside on open. Default: console.warn (stderr). */
  onWarning?: (message: string) => void;
}

/** A ledger line found damaged on open and moved to `<path>.damaged`. */
export interface DamagedLedgerLine {
  /** 1-based line number in the file as it was found. */
  line: number;
  reason: string;
}

/**
 * The action ledger: an append-only JSON-lines file of done actions, keyed by idempotency key.
 * `record()` skips keys among the most recent `dedupWindow` it holds, so a record replayed after
 * a crash never produces a second effect. Only keys live in memory; entries and the digest are
 * read back from the file. A torn last line (a crash mid-write) is cut on open.
 *
 * Each line carries a CRC-32C of itself (see ledger-lines.ts). A line that fails it (a changed
 * byte, a lost newline) is moved to `<path>.damaged` on open and reported with its line number
 * and reason through `onWarning`; every other entry, before and after it, is kept. The damaged
 * entry no longer counts in `size` and `digest()`, but if its key can still be read it stays
 * known for deduplication, so a replay of its record does not act a second time. Ledgers written
 * before checksums load as they are (their lines are checked as JSON only).
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
  /** Lines found damaged on open and set aside in `<path>.damaged` (empty when all were whole). */
  readonly damaged: DamagedLedgerLine[] = [];
  private readonly warn: (message: string) => void;

  private constructor(
    readonly path: string,
    opts: ActionLedgerOptions,
  ) {
    this.window = opts.dedupWindow ?? DEFAULT_DEDUP_WINDOW;
    this.warn = opts.onWarning ?? ((message) => console.warn(message));
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

  private load(): number {
    const buf = readFileSync(this.path);
    let valid = 0;
    const kept: Buffer[] = [];
    const setAside: Buffer[] = [];
    for (const l of scanLines(buf)) {
      valid = l.end;
      if (l.entry) {
        this.remember(l.entry.key);
        this.count++;
        kept.push(buf.subarray(l.start, l.end));
        continue;
      }
      this.damaged.push({ line: l.line, reason: l.damage! });
      const key = damagedKey(buf, l);
      if (key !== null) this.remember(key);
      setAside.push(
        Buffer.from(`# line ${l.line} of ${basename(this.path)}: ${l.damage}\n`),
        buf.subarray(l.start, l.end),
      );
    }
    if (setAside.length > 0) {
      const whole = Buffer.concat(kept);
      this.setAside(Buffer.concat(setAside), whole);
      this.end = whole.length;
    } else {
      if (valid < buf.length) ftruncateSync(this.fd, valid);
      this.end = valid;
    }
    return buf.length - valid;
  }

  /**
   * Moves damaged lines to `<path>.damaged` and rewrites the ledger without them. The copy is
   * durable before the ledger is replaced (write, fsync, rename), so a crash in between loses
   * nothing: at worst a damaged line is set aside twice.
   */
  private setAside(damaged: Buffer, kept: Buffer): void {
    const aside = `${this.path}.damaged`;
    appendFileSync(aside, damaged);
    const asideFd = openSync(aside, 'r');
    fsyncSync(asideFd);
    closeSync(asideFd);
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, kept, { flush: true });
    closeSync(this.fd);
    renameSync(tmp, this.path);
    const dirFd = openSync(dirname(this.path), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    this.fd = openSync(this.path, 'r+');
    const lines = this.damaged.map((d) => `line ${d.line}: ${d.reason}`).join('; ');
    this.warn(
      `action ledger ${this.path}: ${this.damaged.length} damaged ${this.damaged.length === 1 ? 'entry' : 'entries'} set aside in ${aside} (${lines}); the other ${this.count} entries are kept. Check that file: its actions were done but no longer count in the digest.`,
    );
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
      text += encodeLine(e);
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
    for (const l of scanLines(readFileSync(this.path).subarray(0, this.end))) if (l.entry) yield l.entry;
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
