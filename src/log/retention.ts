// Which old segments retention removes: by age (newest record older than retentionMs) and by
// total size (oldest first until the partition fits in retentionBytes). The active segment is
// never removed, so offsets stay dense and the high watermark never moves back.

import { unlinkSync } from 'node:fs';
import { fsyncDir } from './fs-util.js';
import { join } from 'node:path';
import { segmentFileName, type Segment } from './segment.js';

export interface RetentionPolicy {
  /** Delete a closed segment once its newest record is older than this. Undefined: keep forever. */
  retentionMs: number | undefined;
  /** Delete the oldest closed segments while the partition is larger than this. Undefined: no limit. */
  retentionBytes: number | undefined;
}

/** How many of the oldest segments (a prefix, never the active one) the policy removes. */
export function expiredPrefix(segments: readonly Segment[], policy: RetentionPolicy, now: number): number {
  let total = 0;
  for (const s of segments) total += s.size;
  let n = 0;
  while (n < segments.length - 1) {
    const seg = segments[n]!;
    seg.ensureIndexed();
    const tooOld =
      policy.retentionMs !== undefined &&
      seg.maxTimestamp >= 0 &&
      seg.maxTimestamp < now - policy.retentionMs;
    const tooBig = policy.retentionBytes !== undefined && total > policy.retentionBytes;
    if (!tooOld && !tooBig) break;
    total -= seg.size;
    n++;
  }
  return n;
}

/** Closes and deletes a segment's files: the log first, so a crash leaves only index orphans (removed on open). */
export function deleteSegment(seg: Segment): void {
  seg.close();
  unlinkSync(seg.logPath);
  for (const ext of ['.index', '.timeindex']) {
    const path = join(seg.dir, segmentFileName(seg.baseOffset, ext));
    try {
      unlinkSync(path);
    } catch {
      // an index never written to disk: nothing to remove
    }
  }
  fsyncDir(seg.dir);
}

/** How many of the oldest segments (never the active one) hold only offsets below `offset`. */
export function prefixBelow(segments: readonly Segment[], offset: number): number {
  let n = 0;
  while (n < segments.length - 1 && segments[n + 1]!.baseOffset <= offset) n++;
  return n;
}

/** Takes the `n` oldest segments out of `segments` and deletes their files. */
export function deletePrefix(segments: Segment[], n: number): void {
  for (const seg of segments.splice(0, n)) deleteSegment(seg);
}
