import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  crc32c,
  decodeRecordBatch,
  encodeRecordBatch,
  readBatchHeader,
  verifyBatchCrc,
  type ProducerRecord,
} from '../../src/log/index.js';
import {
  Cursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from '../../src/log/varint.js';
import { throwsCode } from './helpers.js';

const T0 = 1_700_000_000_000;

// Produced by kafkajs 2.2.4's RecordBatch v0 (= magic 2) encoder for the same two records:
// an independent check that the bytes are what Kafka clients write and read.
const KAFKAJS_BATCH =
  '000000000000002a000000460000000002ad9e2c890000000000010000018bcfe568000000018bcfe56801ffffffffffffffff' +
  '0000000000000000000218000000026b027602026802780e00020201027700';

test('encodes byte for byte what a Kafka client encodes', () => {
  const batch = encodeRecordBatch(
    [
      {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        timestamp: T0,
        headers: [{ key: 'h', value: Buffer.from('x') }],
      },
      { key: null, value: Buffer.from('w'), timestamp: T0 + 1 },
    ],
    42,
    { partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0 },
  );
  assert.equal(batch.toString('hex'), KAFKAJS_BATCH);
});

test('header fields follow the RecordBatch v2 layout', () => {
  const batch = encodeRecordBatch(
    [
      { value: Buffer.from('a'), timestamp: T0 + 10 },
      { value: Buffer.from('b'), timestamp: T0 + 30 },
      { value: Buffer.from('c'), timestamp: T0 },
    ],
    2 ** 40 + 3,
  );
  const h = readBatchHeader(batch, 0);
  assert.equal(h.baseOffset, 2 ** 40 + 3);
  assert.equal(h.batchLength, batch.length - 12);
  assert.equal(h.magic, 2);
  assert.equal(h.lastOffsetDelta, 2);
  assert.equal(h.recordCount, 3);
  assert.equal(h.maxTimestamp, T0 + 30);
  assert.equal(h.crc, crc32c(batch, 21, batch.length));
  const full = decodeRecordBatch(batch);
  assert.equal(full.baseTimestamp, T0 + 10);
  assert.equal(full.producerId, -1);
  assert.equal(full.producerEpoch, -1);
  assert.equal(full.baseSequence, -1);
  assert.equal(full.partitionLeaderEpoch, -1);
  assert.deepEqual(
    full.records.map((r) => [r.offset, r.timestamp]),
    [
      [2 ** 40 + 3, T0 + 10],
      [2 ** 40 + 4, T0 + 30],
      [2 ** 40 + 5, T0],
    ],
  );
  assert.ok(verifyBatchCrc(batch));
});

test('round trip keeps null keys and values, empty buffers, headers and big values', () => {
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 256;
  const records: ProducerRecord[] = [
    { key: null, value: null },
    { key: Buffer.alloc(0), value: Buffer.alloc(0) },
    { key: Buffer.from('user-1'), value: big, headers: [{ key: 'trace-id', value: Buffer.from('abc') }] },
    {
      value: Buffer.from('x'),
      headers: [
        { key: 'ü-ключ', value: null },
        { key: '', value: Buffer.alloc(0) },
      ],
    },
    { value: Buffer.from('late'), timestamp: 0 },
  ];
  const batch = encodeRecordBatch(records, 0, { timestamp: T0 });
  const out = decodeRecordBatch(batch).records;
  assert.equal(out.length, records.length);
  assert.equal(out[0].key, null);
  assert.equal(out[0].value, null);
  assert.deepEqual(out[1].key, Buffer.alloc(0));
  assert.deepEqual(out[1].value, Buffer.alloc(0));
  assert.ok(out[2].value?.equals(big));
  assert.equal(out[2].key?.toString(), 'user-1');
  assert.deepEqual(out[2].headers, [{ key: 'trace-id', value: Buffer.from('abc') }]);
  assert.deepEqual(out[3].headers, [
    { key: 'ü-ключ', value: null },
    { key: '', value: Buffer.alloc(0) },
  ]);
  assert.equal(out[4].timestamp, 0); // negative timestampDelta, a varlong beyond int32
  assert.equal(out[0].timestamp, T0);
  assert.equal(out[0].headers, out[1].headers, 'records without headers share one empty array');
  assert.ok(Object.isFrozen(out[0].headers));
  assert.equal(out[2].value?.buffer, batch.buffer, 'values are views of the input, not copies');
});

test('decoding rejects unknown codecs, foreign and damaged batches with clear codes', () => {
  const batch = encodeRecordBatch([{ value: Buffer.from('hello'), timestamp: T0 }], 0);
  const codec5 = Buffer.from(batch);
  codec5.writeInt16BE(5, 21);
  throwsCode(() => decodeRecordBatch(codec5), 'SLUICE_LOG_UNSUPPORTED_COMPRESSION');
  const notGzip = Buffer.from(batch);
  notGzip.writeInt16BE(1, 21); // says gzip, holds plain records
  throwsCode(() => decodeRecordBatch(notGzip), 'SLUICE_LOG_CORRUPT');
  const magic1 = Buffer.from(batch);
  magic1.writeInt8(1, 16);
  throwsCode(() => decodeRecordBatch(magic1), 'SLUICE_LOG_UNSUPPORTED_MAGIC');
  throwsCode(() => decodeRecordBatch(batch.subarray(0, batch.length - 1)), 'SLUICE_LOG_CORRUPT');
  throwsCode(() => decodeRecordBatch(batch.subarray(0, 30)), 'SLUICE_LOG_CORRUPT');
  const badCount = Buffer.from(batch);
  badCount.writeInt32BE(2, 57);
  throwsCode(() => decodeRecordBatch(badCount), 'SLUICE_LOG_CORRUPT');
  const flipped = Buffer.from(batch);
  flipped[flipped.length - 3] ^= 0xff;
  assert.equal(verifyBatchCrc(flipped), false);
  assert.equal(verifyBatchCrc(batch.subarray(0, batch.length - 1)), false);
});

test('decodes a batch at an offset inside a larger buffer', () => {
  const a = encodeRecordBatch([{ value: Buffer.from('a') }], 0);
  const b = encodeRecordBatch([{ value: Buffer.from('b') }, { value: Buffer.from('c') }], 1);
  const both = Buffer.concat([a, b]);
  assert.deepEqual(
    decodeRecordBatch(both, a.length).records.map((r) => r.value?.toString()),
    ['b', 'c'],
  );
});

test('encoding refuses an empty batch and non-integer timestamps', () => {
  throwsCode(() => encodeRecordBatch([], 0), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => encodeRecordBatch([{ value: null, timestamp: 1.5 }], 0), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => encodeRecordBatch([{ value: null }], -1), 'SLUICE_LOG_INVALID_ARGUMENT');
});

test('varints and varlongs round trip at their edges', () => {
  const buf = Buffer.alloc(16);
  for (const v of [0, 1, -1, 63, -64, 64, -65, 8191, 8192, 2 ** 31 - 1, -(2 ** 31)]) {
    const end = writeVarint(buf, 0, v);
    assert.equal(end, sizeOfVarint(v), `size of ${v}`);
    const cur = new Cursor(0);
    assert.equal(readVarint(buf, cur), v);
    assert.equal(cur.pos, end);
  }
  for (const v of [0, -1, 2 ** 31, -(2 ** 31) - 1, T0, -T0, 2 ** 52 - 1, -(2 ** 52 - 1)]) {
    const end = writeVarlong(buf, 0, v);
    assert.equal(end, sizeOfVarlong(v), `size of ${v}`);
    const cur = new Cursor(0);
    assert.equal(readVarlong(buf, cur), v);
    assert.equal(cur.pos, end);
  }
  throwsCode(() => readVarint(Buffer.from([0x80, 0x80]), new Cursor(0)), 'SLUICE_LOG_CORRUPT');
  throwsCode(
    () => readVarint(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), new Cursor(0)),
    'SLUICE_LOG_CORRUPT',
  );
});
