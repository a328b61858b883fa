import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LogOffsetOutOfRangeError, Partition } from '../../src/log/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-retention-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const rec = (i: number) => ({ value: Buffer.alloc(200, i % 256) });
const logFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.log')).length;

describe('log retention and segment rolls', () => {
  it('deletes the oldest segments beyond retentionBytes, moving the log start offset forward', () => {
    const dir = join(tmp, 'size');
    const p = Partition.open(dir, { segmentBytes: 4096, retentionBytes: 16 * 1024, onWarning: () => {} });
    for (let i = 0; i < 400; i++) p.append([rec(i)]);
    assert.ok(p.logStartOffset > 0, 'old segments were deleted');
    assert.ok(logFiles(dir) <= 6, `${logFiles(dir)} segments left`);
    assert.equal(p.highWatermark, 400);
    // Everything from the log start offset on is still readable, in order.
    let offset = p.logStartOffset;
    while (offset < p.highWatermark) {
      const { records, nextOffset } = p.read(offset);
      assert.equal(records[0]!.offset, offset);
      offset = nextOffset;
    }
    assert.throws(() => p.read(0), LogOffsetOutOfRangeError);
    const start = p.logStartOffset;
    p.close();
    const reopened = Partition.open(dir, { segmentBytes: 4096, onWarning: () => {} });
    assert.equal(reopened.logStartOffset, start, 'the start offset survives a restart');
    assert.equal(reopened.highWatermark, 400);
    reopened.close();
  });

  it('deletes segments whose newest record is older than retentionMs, never the active one', () => {
    const dir = join(tmp, 'age');
    const p = Partition.open(dir, { segmentBytes: 2048, onWarning: () => {} });
    const day = 86_400_000;
    const t0 = Date.now() - 10 * day;
    for (let i = 0; i < 100; i++)
      p.append([{ ...rec(i), timestamp: t0 + i * 2 * 3_600_000 }], t0 + i * 2 * 3_600_000);
    p.close();
    const q = Partition.open(dir, { segmentBytes: 2048, retentionMs: 3 * day, onWarning: () => {} });
    // Records span t0 .. t0 + 198 h (~8.3 days): only those newer than now - 3 days may remain.
    const first = q.read(q.logStartOffset).records[0]!;
    assert.ok(q.logStartOffset > 0);
    assert.ok(
      first.timestamp >= Date.now() - 3 * day - 24 * 3_600_000,
      'at most one segment older than the limit',
    );
    assert.equal(q.highWatermark, 100);
    // All expired: the active segment stays, so appends continue at the same offset.
    assert.ok(q.enforceRetention(Date.now() + 100 * day) >= 0);
    assert.equal(q.append([rec(1)]).baseOffset, 100);
    q.close();
  });

  it('rolls the active segment by age (segmentMs)', async () => {
    const dir = join(tmp, 'roll');
    const p = Partition.open(dir, { segmentMs: 30, onWarning: () => {} });
    p.append([rec(1)]);
    await new Promise((r) => setTimeout(r, 50));
    p.append([rec(2)]);
    assert.equal(logFiles(dir), 2);
    p.close();
  });
});
