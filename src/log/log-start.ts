// `<partition>/log-start-offset`: the first offset still readable when records were deleted
// inside a segment (Kafka's DeleteRecords). Whole segments below it are removed; the rest of
// the segment that holds it stays on disk but is no longer served. Replaced atomically.

import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fs-util.js';

const NAME = 'log-start-offset';

/** The saved log start offset, or 0 when there is none; damaged files are reported and ignored. */
export function readLogStart(dir: string, warn: (message: string) => void): number {
  const path = join(dir, NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const offset = /^\d+\n$/.test(text) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(offset)) {
    // Ignoring it can only bring deleted records back into view, never lose any.
    warn(`sluice log: ${path} is damaged (expected one offset); records deleted below it are visible again`);
    return 0;
  }
  return offset;
}

export function writeLogStart(dir: string, offset: number): void {
  writeFileAtomic(join(dir, NAME), `${offset}\n`);
}

export function removeLogStart(dir: string): void {
  try {
    unlinkSync(join(dir, NAME));
  } catch {
    // never written: nothing to remove
  }
}
