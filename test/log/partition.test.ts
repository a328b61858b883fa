import assert from 'node:assert/strict';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  LogOffsetOutOfRangeError,
  Partition,
  verifyBatchCrc,
  type PartitionOptions,
} from '../../src/log/index.js';
import { defer, tempDir, throwsCode, valueFor } from './helpers.js';

const T0 = 1_700_000_000_000;
const TINY: PartitionOptions = { segmentBytes: 1024, indexIntervalBytes: 100, fsync: 'never' };

/** Appends batches of 1..7 records (offset-tagged values) until the partition has `total` records. */
function fill(p: Partition, total: number): void {
  let n = 0;
  while (n < total) {
    const size = Math.min(1 + (n % 7), total - n);
    const records = Array.from({ length: size }, (_, i) => ({
      key: Buffer.from(`k${n + i}`),
      value: valueFor(n + i, (n + i) % 50),
      timestamp: T0 + n + i,
    }));
    const r = p.append(records);
    assert.equal(r.baseOffset, n);
    assert.equal(r.lastOffset, n + size - 1);
    n += size;
  }
}

function readAll(p: Partition, from = 0, maxBytes = 300): number[] {
  const offsets: number[] = [];
  let next = from;
  while (next < p.highWatermark) {
    const { records, nextOffset } = p.read(next, maxBytes);
    assert.ok(nextOffset > next, 'read always makes progress');
    for (const r of records) {
      assert.deepEqual(r.value, valueFor(r.offset, r.offset % 50));
      assert.equal(r.timestamp, T0 + r.offset);
      offsets.push(r.offset);
    }
    next = nextOffset;
  }
  return offsets;
}

test('reads from any offset, including the middle of a batch, across many segments', (t) => {
  const p = Partition.open(tempDir(t), TINY);
  defer(t, () => p.close());
  fill(p, 400);
  assert.equal(p.highWatermark, 400);
  assert.equal(p.logStartOffset, 0);
  const segments = readdirSync(p.dir).filter((f) => f.endsWith('.log'));
  assert.ok(segments.length > 5, `expected several segments, got ${segments.length}`);
  assert.ok(segments.includes('00000000000000000000.log'));
  for (let offset = 0; offset < 400; offset++) {
    const { records } = p.read(offset, 1);
    assert.equal(records[0].offset, offset, `first record read from ${offset}`);
    assert.equal(records[0].key?.toString(), `k${offset}`);
  }
  assert.deepEqual(
    readAll(p),
    Array.from({ length: 400 }, (_, i) => i),
  );
  assert.deepEqual(p.read(400), { records: [], nextOffset: 400 });
});

test('maxBytes bounds a read to whole batches but never returns less than one batch', (t) => {
  const p = Partition.open(tempDir(t), { fsync: 'never' });
  defer(t, () => p.close());
  p.append([{ value: Buffer.alloc(5000) }, { value: Buffer.alloc(5000) }]);
  p.append([{ value: Buffer.from('small') }]);
  const first = p.read(1, 100);
  assert.deepEqual(
    first.records.map((r) => r.offset),
    [1],
  );
  assert.equal(first.nextOffset, 2);
  assert.equal(p.read(0).records.length, 3);
});

test('a restart keeps records, high watermark and the append position', (t) => {
  const dir = tempDir(t);
  let p = Partition.open(dir, TINY);
  fill(p, 150);
  p.close();
  throwsCode(() => p.read(0), 'SLUICE_LOG_CLOSED');
  throwsCode(() => p.append([{ value: null }]), 'SLUICE_LOG_CLOSED');
  p = Partition.open(dir, TINY);
  defer(t, () => p.close());
  assert.equal(p.highWatermark, 150);
  assert.deepEqual(
    readAll(p),
    Array.from({ length: 150 }, (_, i) => i),
  );
  assert.equal(p.append([{ value: valueFor(150, 0), timestamp: T0 + 150 }]).baseOffset, 150);
  assert.equal(p.read(150).records[0].value?.toString(), 'value-150');
});

test('lost index files are rebuilt from the segments', (t) => {
  const dir = tempDir(t);
  let p = Partition.open(dir, TINY);
  fill(p, 200);
  p.close();
  for (const f of readdirSync(dir)) if (f.endsWith('index')) unlinkSync(join(dir, f));
  const warnings: string[] = [];
  p = Partition.open(dir, { ...TINY, onWarning: (m) => warnings.push(m) });
  defer(t, () => p.close());
  assert.equal(p.highWatermark, 200);
  assert.deepEqual(
    readAll(p, 0, 1),
    Array.from({ length: 200 }, (_, i) => i),
  );
  assert.equal(p.offsetForTimestamp(T0 + 17), 17);
  assert.deepEqual(warnings, []);
  assert.ok(readdirSync(dir).some((f) => f.endsWith('.index')));
});

test('appendBatch stores producer bytes unchanged except baseOffset; readBatches returns them', (t) => {
  const p = Partition.open(tempDir(t), TINY);
  defer(t, () => p.close());
  p.append([{ value: Buffer.from('first') }]);
  const produced = encodeRecordBatch(
    [
      { key: Buffer.from('a'), value: Buffer.from('1'), headers: [{ key: 'h', value: Buffer.from('v') }] },
      { key: null, value: Buffer.from('2') },
      { key: Buffer.from('c'), value: null },
    ],
    0,
    { producerId: 77, producerEpoch: 3, baseSequence: 12, timestamp: T0 },
  );
  const copy = Buffer.from(produced);
  assert.equal(p.appendBatch(produced), 1);
  assert.deepEqual(produced, copy, 'the caller’s buffer is not modified');
  assert.equal(p.highWatermark, 4);
  for (const offset of [1, 2, 3]) {
    const stored = p.readBatches(offset, 1);
    assert.equal(stored.length, produced.length);
    assert.equal(stored.readBigInt64BE(0), 1n);
    assert.deepEqual(stored.subarray(8), produced.subarray(8));
    assert.ok(verifyBatchCrc(stored));
  }
  const decoded = decodeRecordBatch(p.readBatches(2, 1));
  assert.equal(decoded.producerId, 77);
  assert.deepEqual(
    decoded.records.map((r) => r.offset),
    [1, 2, 3],
  );
  assert.deepEqual(
    p.read(2).records.map((r) => r.value?.toString() ?? null),
    ['2', null],
  );
  assert.equal(p.readBatches(4).length, 0);
});

test('appendBatch rejects what a Kafka broker rejects', (t) => {
  const p = Partition.open(tempDir(t), { fsync: 'never', maxBatchBytes: 4096 });
  defer(t, () => p.close());
  const good = encodeRecordBatch([{ value: Buffer.from('x') }, { value: Buffer.from('y') }], 0);
  const badCrc = Buffer.from(good);
  badCrc[badCrc.length - 1] ^= 1;
  throwsCode(() => p.appendBatch(badCrc), 'SLUICE_LOG_CORRUPT');
  const magic1 = Buffer.from(good);
  magic1.writeInt8(1, 16);
  throwsCode(() => p.appendBatch(magic1), 'SLUICE_LOG_UNSUPPORTED_MAGIC');
  throwsCode(() => p.appendBatch(Buffer.concat([good, good])), 'SLUICE_LOG_INVALID_BATCH');
  throwsCode(() => p.appendBatch(good.subarray(0, 40)), 'SLUICE_LOG_CORRUPT');
  throwsCode(
    () => p.appendBatch(encodeRecordBatch([{ value: Buffer.alloc(5000) }], 0)),
    'SLUICE_LOG_BATCH_TOO_LARGE',
  );
  throwsCode(() => p.append([{ value: Buffer.alloc(5000) }]), 'SLUICE_LOG_BATCH_TOO_LARGE');
  assert.equal(p.highWatermark, 0, 'nothing was stored');
  assert.equal(p.appendBatch(good), 0);
});

test('offsets outside [logStartOffset, highWatermark] fail with SLUICE_LOG_OFFSET_OUT_OF_RANGE', (t) => {
  const p = Partition.open(tempDir(t), { fsync: 'never' });
  defer(t, () => p.close());
  p.append([{ value: Buffer.from('a') }]);
  throwsCode(() => p.read(2), 'SLUICE_LOG_OFFSET_OUT_OF_RANGE');
  throwsCode(() => p.read(-1), 'SLUICE_LOG_OFFSET_OUT_OF_RANGE');
  throwsCode(() => p.readBatches(0.5), 'SLUICE_LOG_OFFSET_OUT_OF_RANGE');
  throwsCode(() => p.read(0, -1), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => p.append([]), 'SLUICE_LOG_INVALID_ARGUMENT');
  try {
    p.read(5);
  } catch (err) {
    assert.ok(err instanceof LogOffsetOutOfRangeError);
    assert.equal(err.highWatermark, 1);
    assert.equal(err.logStartOffset, 0);
  }
});

test('a value larger than a segment gets a segment of its own', (t) => {
  const dir = tempDir(t);
  const p = Partition.open(dir, { segmentBytes: 64 << 10, fsync: 'batch' });
  defer(t, () => p.close());
  const big = Buffer.alloc(1 << 20, 9);
  p.append([{ value: Buffer.from('before') }]);
  p.append([{ value: big }]);
  p.append([{ value: Buffer.from('after') }]);
  assert.deepEqual(
    readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort(),
    ['00000000000000000000.log', '00000000000000000001.log', '00000000000000000002.log'],
  );
  assert.ok(p.read(1, 10).records[0].value?.equals(big));
  assert.equal(p.read(2).records[0].value?.toString(), 'after');
});

test('offsetForTimestamp finds the first record at or after a time, across segments', (t) => {
  const p = Partition.open(tempDir(t), TINY);
  defer(t, () => p.close());
  fill(p, 300);
  assert.equal(p.offsetForTimestamp(0), 0);
  assert.equal(p.offsetForTimestamp(T0 + 123), 123);
  assert.equal(p.offsetForTimestamp(T0 + 299), 299);
  assert.equal(p.offsetForTimestamp(T0 + 300), undefined);
});

test('every fsync policy appends and reads back; interval flushes in the background', async (t) => {
  for (const fsync of ['batch', 'interval', 'never'] as const) {
    const dir = tempDir(t);
    const p = Partition.open(dir, { fsync, fsyncIntervalMs: 5 });
    p.append([{ value: Buffer.from(fsync) }]);
    if (fsync === 'interval') await new Promise((r) => setTimeout(r, 30));
    p.flush();
    p.close();
    const again = Partition.open(dir);
    assert.equal(again.read(0).records[0].value?.toString(), fsync);
    again.close();
  }
  throwsCode(
    () => Partition.open(tempDir(t), { fsync: 'sometimes' as 'never' }),
    'SLUICE_LOG_INVALID_ARGUMENT',
  );
  throwsCode(() => Partition.open(tempDir(t), { segmentBytes: 0 }), 'SLUICE_LOG_INVALID_ARGUMENT');
});

test('offsetForTimestamp is exact with out-of-order timestamps, also after losing the time indexes', (t) => {
  const dir = tempDir(t);
  let p = Partition.open(dir, TINY);
  const stamps: number[] = [];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 1000;
  for (let b = 0; b < 80; b++) {
    const records = Array.from({ length: 1 + (b % 4) }, () => ({
      value: Buffer.from('x'),
      timestamp: T0 + rand(),
    }));
    for (const r of records) stamps.push(r.timestamp);
    p.append(records);
  }
  const expected = (target: number) => {
    const i = stamps.findIndex((s) => s >= target);
    return i < 0 ? undefined : i;
  };
  const check = () => {
    for (let target = T0 - 1; target <= T0 + 1001; target += 37) {
      assert.equal(p.offsetForTimestamp(target), expected(target), `target ${target - T0}`);
    }
  };
  check();
  p.close();
  for (const f of readdirSync(dir)) if (f.endsWith('.timeindex')) unlinkSync(join(dir, f));
  p = Partition.open(dir, TINY);
  defer(t, () => p.close());
  check();
});
