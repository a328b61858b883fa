// Compressed RecordBatches: decoding batches that independent implementations compressed
// (kafka-python 2.0 with python-snappy, python-lz4, python-zstandard and zlib; see
// fixtures/make-compressed-batches.py), round trips of our own encoder, and malformed payloads
// that must give a clear LogError naming the codec and offset, never a codec library's crash.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { crc32c } from '../../src/core/crc32c.js';
import {
  LogError,
  decodeRecordBatch,
  encodeRecordBatch,
  verifyBatchCrc,
  zstdWritable,
  type CompressionCodec,
  type ProducerRecord,
} from '../../src/log/index.js';
import { MAX_DECOMPRESSED_BYTES } from '../../src/log/compression.js';
import { Partition } from '../../src/log/partition.js';
import { tempDir } from './helpers.js';

interface FixtureRecord {
  key: string;
  value: string;
  ts: number;
  headers: [string, string][];
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/compressed-batches.json', import.meta.url), 'utf8'),
) as { records: FixtureRecord[]; batches: Record<string, string> };

const CODEC_OF: Record<string, number> = { gzip: 1, 'snappy-xerial': 2, 'snappy-raw': 2, lz4: 3, zstd: 4 };

for (const [name, hex] of Object.entries(fixture.batches)) {
  test(`decodes a ${name} batch compressed by kafka-python`, () => {
    const bytes = Buffer.from(hex, 'hex');
    assert.ok(verifyBatchCrc(bytes), 'the fixture is an intact batch');
    const batch = decodeRecordBatch(bytes);
    assert.equal(batch.attributes & 7, CODEC_OF[name]);
    assert.equal(batch.records.length, fixture.records.length);
    batch.records.forEach((r, i) => {
      const want = fixture.records[i];
      assert.equal(r.offset, i);
      assert.equal(r.timestamp, want.ts);
      assert.equal(r.key?.toString(), want.key);
      assert.equal(r.value?.toString(), want.value);
      assert.deepEqual(
        r.headers.map((h) => [h.key, h.value?.toString()]),
        want.headers,
      );
    });
  });
}

const RECORDS: ProducerRecord[] = Array.from({ length: 200 }, (_, i) => ({
  key: Buffer.from(`key-${i % 7}`),
  value: Buffer.from(`{"amount":${i},"note":"${'x'.repeat(i % 50)}"}`),
  timestamp: 1_700_000_000_000 + i,
  headers: i % 3 === 0 ? [{ key: 'h', value: Buffer.from(String(i)) }] : undefined,
}));

const WRITABLE: CompressionCodec[] = ['gzip', 'snappy', 'lz4', ...(zstdWritable ? ['zstd' as const] : [])];

for (const codec of WRITABLE) {
  test(`encodes ${codec} batches that compress and decode to the same records`, () => {
    const plain = encodeRecordBatch(RECORDS, 5, { timestamp: 0 });
    const packed = encodeRecordBatch(RECORDS, 5, { timestamp: 0, compression: codec });
    assert.ok(packed.length < plain.length / 2, `${codec}: ${packed.length} < ${plain.length} / 2`);
    assert.ok(verifyBatchCrc(packed));
    const a = decodeRecordBatch(plain);
    const b = decodeRecordBatch(packed);
    assert.equal(b.attributes & 7, ['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(codec));
    assert.deepEqual(b.records, a.records);
    assert.equal(b.lastOffsetDelta, RECORDS.length - 1);
  });
}

test('writing zstd is refused with a clear error only where Node lacks a zstd encoder', () => {
  if (zstdWritable) {
    assert.ok(decodeRecordBatch(encodeRecordBatch(RECORDS, 0, { compression: 'zstd' })).records.length);
    return;
  }
  assert.throws(
    () => encodeRecordBatch(RECORDS, 0, { compression: 'zstd' }),
    (e: unknown) => e instanceof LogError && /Node >= 22\.15/.test(e.message),
  );
});

/** A batch with codec `codec` whose records section is `payload`, CRC made right. */
function batchWithPayload(codec: number, payload: Buffer, count = 3): Buffer {
  const head = encodeRecordBatch([{ value: Buffer.from('x') }], 42).subarray(0, 61);
  const out = Buffer.concat([head, payload]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(codec, 21);
  out.writeInt32BE(count, 57);
  out.writeUInt32BE(crc32c(out, 21, out.length), 17);
  return out;
}

function assertClearError(batch: Buffer, codecName: string, what: string): void {
  assert.throws(
    () => decodeRecordBatch(batch),
    (e: unknown) => {
      assert.ok(e instanceof LogError, `${what}: a LogError, got ${String(e)}`);
      assert.equal(e.code, 'SLUICE_LOG_CORRUPT', what);
      assert.match(e.message, new RegExp(`offset 42`), what);
      assert.match(e.message, new RegExp(codecName), what);
      return true;
    },
  );
}

test('malformed compressed payloads give a clear LogError naming codec and offset', () => {
  const section = encodeRecordBatch(RECORDS.slice(0, 3), 0).subarray(61);
  const cases: [number, string, Buffer][] = [];
  const gz = zlib.gzipSync(section);
  cases.push([1, 'gzip', Buffer.from('not gzip at all')], [1, 'gzip', gz.subarray(0, gz.length - 9)]);
  cases.push([2, 'snappy', Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x01, 0x02])]);
  const xerialHead = Buffer.from(fixture.batches['snappy-xerial'], 'hex').subarray(61, 61 + 16);
  cases.push([2, 'snappy', Buffer.concat([xerialHead, Buffer.from([0, 0, 1, 0, 1, 2])])]); // block runs past
  cases.push([2, 'snappy', Buffer.concat([xerialHead, Buffer.from([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff])])]);
  const lz4 = Buffer.from(fixture.batches.lz4, 'hex').subarray(61);
  cases.push([3, 'lz4', lz4.subarray(0, lz4.length - 20)], [3, 'lz4', Buffer.from('garbage garbage')]);
  const zstd = Buffer.from(fixture.batches.zstd, 'hex').subarray(61);
  cases.push([4, 'zstd', zstd.subarray(0, zstd.length - 10)], [4, 'zstd', Buffer.from('garbage garbage')]);
  // Decompresses fine but the records inside are not what the header says.
  cases.push([1, 'gzip|malformed', zlib.gzipSync(Buffer.from('not records'))]);
  for (const [codec, name, payload] of cases) assertClearError(batchWithPayload(codec, payload), name, name);
  // The codecs still work after the failures (the WebAssembly codecs trap on bad input).
  assert.equal(decodeRecordBatch(Buffer.from(fixture.batches.lz4, 'hex')).records.length, 20);
  assert.equal(decodeRecordBatch(Buffer.from(fixture.batches['snappy-raw'], 'hex')).records.length, 20);
});

test('a compression bomb is refused before it fills memory', () => {
  // Raw snappy declares its decompressed length up front: over the limit, refused unread.
  const claim = MAX_DECOMPRESSED_BYTES + 1;
  const varint: number[] = [];
  for (let v = claim; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      varint.push(v);
      break;
    }
    varint.push((v & 0x7f) | 0x80);
  }
  assertClearError(batchWithPayload(2, Buffer.from([...varint, 0])), 'snappy', 'snappy bomb');
  // gzip: zlib stops at the limit. 257 gzip members of 1 MiB of zeros each (~260 KB in all).
  const member = zlib.gzipSync(Buffer.alloc(1 << 20));
  const bomb = Buffer.concat(Array.from({ length: (MAX_DECOMPRESSED_BYTES >> 20) + 1 }, () => member));
  assertClearError(batchWithPayload(1, bomb), 'gzip', 'gzip bomb');
});

test('a partition stores compressed appends and its read errors name the partition', (t) => {
  const p = Partition.open(`${tempDir(t)}/orders-3`);
  t.after(() => p.close());
  p.append(RECORDS.slice(0, 100), 0, 'gzip');
  p.append(RECORDS.slice(100), 0, 'lz4');
  const stored = p.readBatches(0, 1 << 20);
  assert.equal(stored.readInt16BE(21) & 7, 1, 'the first stored batch is gzip');
  const got = [];
  for (let next = 0; next < p.highWatermark;) {
    const r = p.read(next);
    got.push(...r.records);
    next = r.nextOffset;
  }
  assert.deepEqual(
    got.map((r) => r.value?.toString()),
    RECORDS.map((r) => r.value?.toString()),
  );
  assert.equal(
    p.read(150).records[0].offset,
    150,
    'a read inside a compressed batch skips its earlier records',
  );
  p.appendBatch(batchWithPayload(4, Buffer.from('garbage garbage'), 1));
  assert.throws(
    () => p.read(200),
    (e: unknown) => e instanceof LogError && /partition orders-3: .*offset 200.*zstd/.test(e.message),
  );
});

test('offsetForTimestamp looks inside compressed batches (and answers the base offset of one that does not decode)', (t) => {
  const p = Partition.open(`${tempDir(t)}/times-0`);
  t.after(() => p.close());
  p.append(RECORDS, 0, 'snappy'); // timestamps 1_700_000_000_000 + i
  assert.equal(p.offsetForTimestamp(1_700_000_000_000 + 137), 137);
  p.appendBatch(batchWithPayload(1, Buffer.from('not gzip'), 1)); // offset 200, timestamp of record 'x'
  assert.equal(p.offsetForTimestamp(Date.now() - 60_000), 200);
});
