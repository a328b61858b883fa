// Committed consumer offsets, stored beside the log in an append-only file of JSON lines, one
// commit per line, fsynced on every commit. On open the last line per (group, topic,
// partition) wins, a torn last line (crash mid-write) is ignored, and the file is compacted.

import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError } from './errors.js';
import { ioError, writeFileAtomic, writeFully } from './fs-util.js';

/** One offset to commit. */
export interface OffsetCommit {
  topic: string;
  partition: number;
  /** The next offset the group will read (Kafka's convention), not the last one processed. */
  offset: number;
  metadata?: string;
}

/** A committed offset and the metadata stored with it. */
export interface CommittedOffset {
  offset: number;
  metadata?: string;
}

interface Line {
  g: string;
  t: string;
  p: number;
  o: number;
  m?: string;
}

/** A deletion (OffsetDelete): the entry is gone once this line is read back. */
interface Tombstone {
  g: string;
  t: string;
  p: number;
  d: 1;
}

const FILE = 'offsets.jsonl';

function keyOf(group: string, topic: string, partition: number): string {
  return `${group}\u0000${topic}\u0000${partition}`;
}

function checkCommit(group: string, c: OffsetCommit): void {
  const ok =
    typeof group === 'string' &&
    group.length > 0 &&
    typeof c.topic === 'string' &&
    c.topic.length > 0 &&
    Number.isSafeInteger(c.partition) &&
    c.partition >= 0 &&
    Number.isSafeInteger(c.offset) &&
    c.offset >= 0 &&
    (c.metadata === undefined || typeof c.metadata === 'string');
  if (!ok) {
    throw new LogError(
      'SLUICE_LOG_INVALID_ARGUMENT',
      `cannot commit ${JSON.stringify({ group, ...c })}: group and topic must be non-empty strings, ` +
        'partition and offset non-negative integers, metadata a string',
    );
  }
}

/**
 * Durable committed offsets per consumer group.
 *
 * @example
 * const store = OffsetStore.open('/var/lib/sluice/__consumer_offsets');
 * store.commit('fraud-scorer', 'payments', 0, 1042);
 * store.committed('fraud-scorer', 'payments', 0); // 1042, also after a restart
 */
export class OffsetStore {
  private readonly entries = new Map<string, Line>();
  private fd = -1;
  private lines = 0;
  private mustCompact = false;

  private constructor(
    readonly dir: string,
    private readonly warn: (msg: string) => void,
  ) {}

  /** Opens (creating if needed) the store in `dir`, reading back and compacting its file. */
  static open(dir: string, opts: { onWarning?: (msg: string) => void } = {}): OffsetStore {
    mkdirSync(dir, { recursive: true });
    const store = new OffsetStore(dir, opts.onWarning ?? ((msg) => console.warn(msg)));
    store.load();
    return store;
  }

  /** Commits one offset durably (one write, one fdatasync). */
  commit(group: string, topic: string, partition: number, offset: number, metadata?: string): void {
    this.commitMany(group, [{ topic, partition, offset, metadata }]);
  }

  /** Commits several offsets of one group with one write and one fdatasync. */
  commitMany(group: string, commits: readonly OffsetCommit[]): void {
    if (this.fd < 0)
      throw new LogError('SLUICE_LOG_CLOSED', `offset store ${this.dir} is closed; open it again to commit`);
    for (const c of commits) checkCommit(group, c);
    if (this.mustCompact) this.compact();
    const lines = commits.map((c) => ({ g: group, t: c.topic, p: c.partition, o: c.offset, m: c.metadata }));
    try {
      writeFully(this.fd, Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join(''), 'utf8'), 0);
      fdatasyncSync(this.fd);
    } catch (err) {
      this.mustCompact = true; // a half-written line must not prefix the next one
      throw ioError(`committing offsets to ${join(this.dir, FILE)}`, err);
    }
    for (const l of lines) this.entries.set(keyOf(l.g, l.t, l.p), l);
    this.lines += lines.length;
    if (this.lines > Math.max(1000, 2 * this.entries.size)) this.compact();
  }

  /** Deletes committed offsets of `group` with one write and one fdatasync; unknown ones are skipped. */
  deleteMany(group: string, partitions: readonly { topic: string; partition: number }[]): void {
    if (this.fd < 0)
      throw new LogError('SLUICE_LOG_CLOSED', `offset store ${this.dir} is closed; open it again to delete`);
    const gone = partitions.filter((x) => this.entries.has(keyOf(group, x.topic, x.partition)));
    if (gone.length === 0) return;
    if (this.mustCompact) this.compact();
    const lines: Tombstone[] = gone.map((x) => ({ g: group, t: x.topic, p: x.partition, d: 1 }));
    try {
      writeFully(this.fd, Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join(''), 'utf8'), 0);
      fdatasyncSync(this.fd);
    } catch (err) {
      this.mustCompact = true;
      throw ioError(`deleting offsets in ${join(this.dir, FILE)}`, err);
    }
    for (const l of lines) this.entries.delete(keyOf(l.g, l.t, l.p));
    this.lines += lines.length;
  }

  /** Groups with at least one committed offset, sorted. */
  groups(): string[] {
    return [...new Set([...this.entries.values()].map((l) => l.g))].sort();
  }

  /** The committed offset, or undefined when the group never committed one for this partition. */
  committed(group: string, topic: string, partition: number): number | undefined {
    return this.entries.get(keyOf(group, topic, partition))?.o;
  }

  /** The committed offset with its metadata, or undefined. */
  committedEntry(group: string, topic: string, partition: number): CommittedOffset | undefined {
    const l = this.entries.get(keyOf(group, topic, partition));
    return l === undefined ? undefined : l.m === undefined ? { offset: l.o } : { offset: l.o, metadata: l.m };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private load(): void {
    const path = join(this.dir, FILE);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`reading ${path}`, err);
    }
    const lines = text.split('\n');
    const torn = lines.pop() ?? '';
    if (torn !== '') {
      this.warn(
        `sluice log: ignored a torn last line (${torn.length} chars) in ${path}: a commit was cut by a crash`,
      );
    }
    for (const [i, raw] of lines.entries()) {
      if (raw === '') continue;
      try {
        const parsed = JSON.parse(raw) as Line | Tombstone;
        if ('d' in parsed && parsed.d === 1) {
          this.entries.delete(keyOf(parsed.g, parsed.t, parsed.p));
          continue;
        }
        const l = parsed as Line;
        checkCommit(l.g, { topic: l.t, partition: l.p, offset: l.o, metadata: l.m });
        this.entries.set(keyOf(l.g, l.t, l.p), l);
      } catch {
        this.warn(`sluice log: skipped unreadable line ${i + 1} of ${path}`);
      }
    }
    // Compacting on open keeps the file proportional to the number of partitions, not commits.
    this.compact();
  }

  private compact(): void {
    const path = join(this.dir, FILE);
    const text = [...this.entries.values()].map((l) => `${JSON.stringify(l)}\n`).join('');
    try {
      writeFileAtomic(path, text);
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
      this.fd = openSync(path, 'a');
    } catch (err) {
      throw ioError(`compacting ${path}`, err);
    }
    this.lines = this.entries.size;
    this.mustCompact = false;
  }
}
