// Opening the segments found in a partition directory.

import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from './fs-util.js';
import { Segment, type SegmentConfig } from './segment.js';

/**
 * Opens every segment in `dir` (oldest first), recovering the newest, or creates segment 0 in
 * an empty directory. Index files whose log is gone (an interrupted roll) are removed.
 */
export function openSegments(dir: string, config: SegmentConfig): Segment[] {
  const names = readdirSync(dir);
  const logs = new Set(names.filter((n) => /^\d{20}\.log$/.test(n)).map((n) => n.slice(0, 20)));
  for (const n of names) {
    if (/^\d{20}\.(index|timeindex)$/.test(n) && !logs.has(n.slice(0, 20))) unlinkSync(join(dir, n));
  }
  const bases = [...logs].map(Number).sort((a, b) => a - b);
  const segments: Segment[] = [];
  try {
    if (bases.length === 0) {
      segments.push(Segment.create(dir, 0, config));
      fsyncDir(dir);
      return segments;
    }
    for (const base of bases) segments.push(Segment.open(dir, base, config));
    for (let i = 0; i + 1 < segments.length; i++) segments[i].nextOffset = bases[i + 1];
    segments[segments.length - 1].recover();
    return segments;
  } catch (err) {
    for (const s of segments) s.close();
    throw err;
  }
}

/** Index in `segments` (oldest first) of the segment holding `offset`: the last based at or below it. */
export function segmentIndexFor(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid]!.baseOffset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
