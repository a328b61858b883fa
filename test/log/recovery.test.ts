import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Partition, type PartitionOptions } from '../../src/log/index.js';
import { defer, tempDir, valueFor } from './helpers.js';

const OPTS: PartitionOptions = { segmentBytes: 1 << 20, indexIntervalBytes: 100, fsync: 'never' };

/** A partition of 60 batches of 3 records, closed; returns its dir, newest segment file and last batch. */
function prepare(t: TestContext) {
  const dir = tempDir(t);
  const p = Partition.open(dir, OPTS);
  for (let b = 0; b < 60; b++) {
    p.append([0, 1, 2].map((i) => ({ value: valueFor(b * 3 + i, 40), timestamp: 1000 + b })));
  }
  const lastBatch = p.readBatches(177);
  p.close();
  const log = join(
    dir,
    readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .at(-1)!,
  );
  return { dir, log, lastBatch, lastBatchPos: statSync(log).size - lastBatch.length };
}

function reopen(t: TestContext, dir: string) {
  const warnings: string[] = [];
  const p = Partition.open(dir, { ...OPTS, onWarning: (m) => warnings.push(m) });
  defer(t, () => p.close());
  return { p, warnings };
}

/** Checks that offsets [0, hw) read back intact and (unless told not to) that appends continue at `hw`. */
function assertIntact(p: Partition, hw: number, append = true): void {
  assert.equal(p.highWatermark, hw);
  let next = 0;
  const seen: number[] = [];
  while (next < hw) {
    const r = p.read(next, 200);
    for (const rec of r.records) {
      assert.deepEqual(rec.value, valueFor(rec.offset, 40));
      seen.push(rec.offset);
    }
    next = r.nextOffset;
  }
  assert.deepEqual(
    seen,
    Array.from({ length: hw }, (_, i) => i),
  );
  if (!append) return;
  assert.equal(p.append([{ value: Buffer.from('new') }]).baseOffset, hw);
  assert.equal(p.read(hw).records[0].value?.toString(), 'new');
}

test('a torn last batch (file cut short) is removed and reported', (t) => {
  const { dir, log, lastBatchPos } = prepare(t);
  truncateSync(log, statSync(log).size - 5);
  const { p, warnings } = reopen(t, dir);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /cut \d+ bytes .* at offset 177 /);
  assert.equal(statSync(log).size, lastBatchPos);
  assertIntact(p, 177);
});

test('a flipped byte in the last batch fails its CRC and the batch is cut', (t) => {
  const { dir, log } = prepare(t);
  const bytes = readFileSync(log);
  bytes[bytes.length - 10] ^= 0x40;
  writeFileSync(log, bytes);
  const { p, warnings } = reopen(t, dir);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /CRC/);
  assertIntact(p, 177);
});

test('a damaged baseOffset (outside the CRC) is caught by the offset sequence', (t) => {
  const { dir, log, lastBatchPos } = prepare(t);
  const bytes = readFileSync(log);
  bytes[lastBatchPos + 7] ^= 0x01;
  writeFileSync(log, bytes);
  const { p, warnings } = reopen(t, dir);
  assert.match(warnings[0], /base offset/);
  assertIntact(p, 177);
});

test('garbage after the last batch (zeros, half a header) is cut; no record is lost', (t) => {
  const { dir, log, lastBatch } = prepare(t);
  appendFileSync(log, Buffer.alloc(100));
  let r = reopen(t, dir);
  assert.match(r.warnings[0], /cut 100 bytes .* at offset 180 /);
  assertIntact(r.p, 180, false);
  r.p.close();
  appendFileSync(log, lastBatch.subarray(0, 30));
  r = reopen(t, dir);
  assert.match(r.warnings[0], /cut 30 bytes .* at offset 180 /);
  assertIntact(r.p, 180);
});

test('a clean shutdown reopens without warnings; damaged indexes are rebuilt, not trusted', (t) => {
  const { dir, log } = prepare(t);
  let r = reopen(t, dir);
  assert.deepEqual(r.warnings, []);
  r.p.close();
  const index = log.replace(/\.log$/, '.index');
  const entries = readFileSync(index);
  assert.ok(entries.length >= 16, 'the segment has index entries');
  // Point the last entry one byte into its batch: still well-formed, but wrong.
  entries.writeInt32BE(entries.readInt32BE(entries.length - 4) + 1, entries.length - 4);
  writeFileSync(index, entries);
  r = reopen(t, dir);
  assert.deepEqual(r.warnings, []);
  assertIntact(r.p, 180, false);
  r.p.close();
  writeFileSync(index, Buffer.from('not an index at all'));
  writeFileSync(log.replace(/\.log$/, '.timeindex'), Buffer.alloc(7, 0xff));
  r = reopen(t, dir);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.p.offsetForTimestamp(1030), 90);
  assertIntact(r.p, 180);
});
