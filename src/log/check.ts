// `sluice log check`: every damaged batch of every partition of a log directory, and with
// `repair`, the damage set aside so the log can be opened and read again. The log is locked for
// the duration, so no pipeline or broker can write while a segment is rewritten.

import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lockDir } from './dir-lock.js';
import { ioError, writeFileAtomic } from './fs-util.js';
import { checkSegmentBytes, encodeEmptyBatch, type DamagedRange } from './segment-check.js';
import { segmentFileName } from './segment.js';
import { readTopics } from './topics-file.js';

/** One damaged range found by {@link checkLog}. */
export interface LogDamage {
  topic: string;
  partition: number;
  /** The segment file, relative to the log directory. */
  segment: string;
  /** File position of the first damaged byte. */
  position: number;
  bytes: number;
  /** First offset of the damaged range. */
  fromOffset: number;
  /** Offset after the damaged range; null when it runs to the end of the newest segment. */
  toOffset: number | null;
  reason: string;
  /** With repair: where the damaged bytes were moved, relative to the log directory. */
  quarantined?: string;
}

/** What {@link checkLog} looked at and found. */
export interface LogCheckReport {
  dir: string;
  partitions: number;
  segments: number;
  batches: number;
  damage: LogDamage[];
  repaired: boolean;
}

/** The folder, inside the log directory, that a repair moves damaged bytes and its report to. */
export const QUARANTINE_DIR = 'quarantine';

/**
 * Checks every batch (framing, magic, CRC-32C, offsets that follow on) of every partition in the
 * log directory `dir`. With `repair`, each damaged range is moved to `dir/quarantine/` (its bytes,
 * plus one line in `report.jsonl`) and replaced by an empty batch over the same offsets, so
 * offsets stay dense and readers step over them; damage at the end of a partition's newest
 * segment is cut, as recovery would. Throws SLUICE_LOG_LOCKED while something else has the log open.
 *
 * @example
 * const report = checkLog('.sluice/fraud/log');
 * for (const d of report.damage) console.log(`${d.topic}-${d.partition} @${d.fromOffset}: ${d.reason}`);
 * if (report.damage.length > 0) checkLog('.sluice/fraud/log', { repair: true });
 */
export function checkLog(dir: string, opts: { repair?: boolean } = {}): LogCheckReport {
  const unlock = lockDir(dir);
  try {
    const report: LogCheckReport = {
      dir,
      partitions: 0,
      segments: 0,
      batches: 0,
      damage: [],
      repaired: false,
    };
    for (const [topic, count] of readTopics(dir)) {
      for (let p = 0; p < count; p++) {
        const partDir = join(dir, `${topic}-${p}`);
        if (!existsSync(partDir)) continue;
        report.partitions++;
        checkPartition(dir, topic, p, report, opts.repair === true);
      }
    }
    report.repaired = opts.repair === true && report.damage.length > 0;
    return report;
  } finally {
    unlock();
  }
}

function checkPartition(
  dir: string,
  topic: string,
  p: number,
  report: LogCheckReport,
  repair: boolean,
): void {
  const name = `${topic}-${p}`;
  const partDir = join(dir, name);
  const bases = readdirSync(partDir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
  for (let i = 0; i < bases.length; i++) {
    const file = segmentFileName(bases[i], '.log');
    const path = join(partDir, file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw ioError(`reading ${path}`, err);
    }
    const result = checkSegmentBytes(bytes, bases[i]);
    report.segments++;
    report.batches += result.batches;
    const nextBase = i + 1 < bases.length ? bases[i + 1] : null;
    const ranges = result.damage.map((d) =>
      // Damage that runs to the end of a closed segment ends where the next segment starts.
      d.toOffset === null && nextBase !== null ? { ...d, toOffset: nextBase } : d,
    );
    const last = ranges[ranges.length - 1];
    if (
      nextBase !== null &&
      result.nextOffset < nextBase &&
      (last === undefined || last.toOffset !== nextBase)
    ) {
      // Whole batches missing at the end of a closed segment (a file cut short at a batch boundary).
      ranges.push({
        position: bytes.length,
        bytes: 0,
        fromOffset: result.nextOffset,
        toOffset: nextBase,
        reason: `records ${result.nextOffset}..${nextBase - 1} are missing: the file ends before the next segment starts`,
        prevMaxTimestamp: 0,
      });
    }
    if (ranges.length === 0) continue;
    const found = ranges.map((d): LogDamage => ({
      topic,
      partition: p,
      segment: join(name, file),
      position: d.position,
      bytes: d.bytes,
      fromOffset: d.fromOffset,
      toOffset: d.toOffset,
      reason: d.reason,
    }));
    if (repair) setAside(dir, name, file, bytes, ranges, found);
    report.damage.push(...found);
  }
}

/**
 * Moves each damaged range's bytes to the quarantine folder and rewrites the segment without
 * them (an empty batch keeps their offsets). The segment is replaced atomically and its indexes
 * are removed, so the next open rebuilds them from the repaired file.
 */
function setAside(
  dir: string,
  name: string,
  file: string,
  bytes: Buffer,
  ranges: DamagedRange[],
  found: LogDamage[],
): void {
  const qDir = join(dir, QUARANTINE_DIR, name);
  mkdirSync(qDir, { recursive: true });
  const parts: Buffer[] = [];
  let pos = 0;
  ranges.forEach((d, i) => {
    parts.push(bytes.subarray(pos, d.position));
    const qName = `${file}.${d.position}.bad`;
    writeFileAtomic(join(qDir, qName), bytes.subarray(d.position, d.position + d.bytes));
    found[i].quarantined = join(QUARANTINE_DIR, name, qName);
    if (d.toOffset !== null) parts.push(encodeEmptyBatch(d.fromOffset, d.toOffset, d.prevMaxTimestamp));
    pos = d.position + d.bytes;
  });
  parts.push(bytes.subarray(pos));
  const partDir = join(dir, name);
  const base = file.slice(0, 20);
  try {
    // Indexes first: a crash before the new log is in place then leaves the old log with no
    // indexes (rebuilt on open), never indexes that point into the wrong file.
    rmSync(join(partDir, `${base}.index`), { force: true });
    rmSync(join(partDir, `${base}.timeindex`), { force: true });
    writeFileAtomic(join(partDir, file), Buffer.concat(parts));
  } catch (err) {
    throw ioError(`replacing ${join(partDir, file)} with its repaired copy`, err);
  }
  const at = new Date().toISOString();
  appendFileSync(
    join(dir, QUARANTINE_DIR, 'report.jsonl'),
    found.map((d) => JSON.stringify({ at, ...d }) + '\n').join(''),
  );
}
