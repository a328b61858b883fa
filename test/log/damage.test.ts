// Damaged stored batches (issue 20, item 4): detected on read, never cut by recovery when sound
// batches follow, and listed and set aside by checkLog (`sluice log check [--repair]`).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkLog, Log, LogError, Partition, type PartitionOptions } from '../../src/log/index.js';
import { defer, tempDir, throwsCode } from './helpers.js';

const T0 = 1_700_000_000_000;

/** Appends `batches` batches of 5 records whose values say their offset: `v-<offset>`. */
function fill(p: Partition, batches: number): void {
  for (let b = 0; b < batches; b++) {
    const records = Array.from({ length: 5 }, (_, i) => ({
      value: Buffer.from(`v-${b * 5 + i}`),
      timestamp: T0 + b,
    }));
    p.append(records);
  }
}

/** Changes one byte of the stored value `v-<offset>` in the file `path` (a digit becomes another). */
function changeValue(path: string, offset: number): number {
  const bytes = readFileSync(path);
  // The value is followed by its record's header count, 0: this finds v-7, not v-70.
  const at = bytes.indexOf(Buffer.from(`v-${offset}\u0000`, 'latin1'));
  assert.ok(at >= 0, `value v-${offset} is in ${path}`);
  const digit = at + 2;
  bytes[digit] = bytes[digit] === 0x39 ? 0x38 : bytes[digit] + 1;
  writeFileSync(path, bytes);
  return digit;
}

function offsetsOf(p: Partition): number[] {
  const got: number[] = [];
  let next = p.logStartOffset;
  while (next < p.highWatermark) {
    const { records, nextOffset } = p.read(next);
    for (const r of records) {
      assert.equal(r.value?.toString(), `v-${r.offset}`, 'every record read is the one written');
      got.push(r.offset);
    }
    next = nextOffset;
  }
  return got;
}

test('a changed byte inside a stored batch fails the read with SLUICE_LOG_CORRUPT naming partition and offsets', (t) => {
  const dir = tempDir(t);
  const p = Partition.open(join(dir, 'orders-0'), { fsync: 'never' });
  defer(t, () => p.close());
  fill(p, 10);
  changeValue(join(dir, 'orders-0', '00000000000000000000.log'), 17); // batch 15..19
  assert.equal(p.read(0, 100).records[0].offset, 0, 'batches before the damage read fine');
  assert.throws(
    () => p.read(12),
    (err: unknown) =>
      err instanceof LogError &&
      err.code === 'SLUICE_LOG_CORRUPT' &&
      /orders-0/.test(err.message) &&
      /offsets 15\.\.19/.test(err.message) &&
      /sluice log check --data/.test(err.message),
  );
});

test('recovery refuses to cut sound batches that follow a damaged one, and says what to run', (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  const opts: PartitionOptions = { fsync: 'never', onWarning: (m) => warnings.push(m) };
  const part = join(dir, 'orders-0');
  const p = Partition.open(part, opts);
  fill(p, 10);
  p.close();
  changeValue(join(part, '00000000000000000000.log'), 22); // batch 20..24 of 0..49, no index entries
  assert.throws(
    () => Partition.open(part, opts),
    (err: unknown) =>
      err instanceof LogError &&
      err.code === 'SLUICE_LOG_CORRUPT' &&
      /offset 20/.test(err.message) &&
      /sluice log check --data .* --repair/.test(err.message),
  );
  assert.equal(readFileSync(join(part, '00000000000000000000.log')).length > 0, true);
  assert.deepEqual(warnings, [], 'nothing was cut');
});

test('a torn tail is still cut by recovery (damage with nothing sound after it)', (t) => {
  const dir = tempDir(t);
  const part = join(dir, 'orders-0');
  const opts: PartitionOptions = { fsync: 'never', onWarning: () => {} };
  const p = Partition.open(part, opts);
  fill(p, 10);
  p.close();
  changeValue(join(part, '00000000000000000000.log'), 47); // the last batch
  const q = Partition.open(part, opts);
  defer(t, () => q.close());
  assert.equal(q.highWatermark, 45);
});

test('checkLog lists every damaged batch; --repair sets them aside and the log reads again', (t) => {
  const dir = tempDir(t);
  const opts = { segmentBytes: 600, fsync: 'never' as const, onWarning: () => {} };
  let log = Log.open(dir, opts);
  log.createTopic('orders', { partitions: 2 });
  fill(log.partition('orders', 0), 30);
  fill(log.partition('orders', 1), 4);
  log.close();
  const part = join(dir, 'orders-0');
  const segments = readdirSync(part)
    .filter((n) => n.endsWith('.log'))
    .sort();
  assert.ok(segments.length >= 3, `several segments (${segments.length})`);
  // A changed value in a closed segment, and a broken header (batchLength) in another.
  const first = join(part, segments[0]);
  const valuePos = changeValue(first, 7);
  const second = join(part, segments[1]);
  const secondBase = Number(segments[1].slice(0, 20));
  const bytes = readFileSync(second);
  const headerBatchPos = bytes.readInt32BE(8) + 12; // the segment's second batch
  bytes.writeInt32BE(0x7fff0000, headerBatchPos + 8);
  writeFileSync(second, bytes);
  // Before the repair a reader stops at the damage for good.
  log = Log.open(dir, opts);
  throwsCode(() => offsetsOf(log.partition('orders', 0)), 'SLUICE_LOG_CORRUPT');
  log.close();

  const report = checkLog(dir);
  assert.equal(report.repaired, false);
  assert.equal(report.partitions, 2);
  assert.deepEqual(
    report.damage.map((d) => [d.topic, d.partition, d.segment, d.fromOffset, d.toOffset]),
    [
      ['orders', 0, join('orders-0', segments[0]), 5, 10],
      ['orders', 0, join('orders-0', segments[1]), secondBase + 5, secondBase + 10],
    ],
  );
  assert.ok(
    report.damage[0].position <= valuePos && valuePos < report.damage[0].position + report.damage[0].bytes,
  );
  assert.equal(report.damage[1].position, headerBatchPos);
  assert.match(report.damage[0].reason, /CRC-32C/);
  assert.match(report.damage[1].reason, /batchLength/);

  const repaired = checkLog(dir, { repair: true });
  assert.equal(repaired.repaired, true);
  assert.equal(repaired.damage.length, 2);
  const quarantined = readFileSync(join(dir, repaired.damage[0].quarantined!));
  assert.equal(quarantined.length, repaired.damage[0].bytes);
  const lines = readFileSync(join(dir, 'quarantine', 'report.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(lines.length, 2);
  assert.equal(JSON.parse(lines[1]).fromOffset, secondBase + 5);

  assert.deepEqual(checkLog(dir).damage, [], 'a repaired log checks clean');
  log = Log.open(dir, opts);
  defer(t, () => log.close());
  const p0 = log.partition('orders', 0);
  const lost = new Set([5, 6, 7, 8, 9, ...[5, 6, 7, 8, 9].map((i) => secondBase + i)]);
  const want = Array.from({ length: 150 }, (_, i) => i).filter((o) => !lost.has(o));
  assert.deepEqual(offsetsOf(p0), want, 'every sound record reads back; the damaged offsets are skipped');
  assert.equal(p0.highWatermark, 150);
  assert.equal(offsetsOf(log.partition('orders', 1)).length, 20);
  // Appends continue after the repaired segments.
  assert.equal(p0.append([{ value: Buffer.from('v-150') }]).baseOffset, 150);
  assert.ok(existsSync(join(dir, 'quarantine', 'orders-0')));
});

test('a broken batch header in a closed segment: reads fail with advice that helps, for good until repaired', (t) => {
  const dir = tempDir(t);
  for (const indexIntervalBytes of [4096, 100]) {
    const part = join(dir, `orders-${indexIntervalBytes}`);
    const opts: PartitionOptions = {
      segmentBytes: 600,
      indexIntervalBytes,
      fsync: 'never',
      onWarning: () => {},
    };
    const p = Partition.open(part, opts);
    fill(p, 12);
    p.close();
    const first = join(part, '00000000000000000000.log');
    const bytes = readFileSync(first);
    bytes.writeInt32BE(7, bytes.readInt32BE(8) + 12 + 8); // the second batch's batchLength
    writeFileSync(first, bytes);
    const q = Partition.open(part, opts);
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.throws(
        () => q.read(5),
        (err: unknown) =>
          err instanceof LogError &&
          err.code === 'SLUICE_LOG_CORRUPT' &&
          err.message.includes(`sluice log check --data ${dir}`),
      );
    }
    q.close();
  }
});
