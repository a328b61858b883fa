import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32c } from '../../src/log/index.js';
import { crc32cJs } from '../../src/core/crc32c.js';

// Bit-at-a-time reference, independent of the table code under test.
function reference(buf: Uint8Array): number {
  let crc = ~0;
  for (const b of buf) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

test('crc32c matches the standard check value and the RFC 3720 (iSCSI) vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
});

test('crc32c over a range equals the reference over that slice, for every length and alignment', () => {
  const data = randomBytes(300);
  for (let start = 0; start < 9; start++) {
    for (let len = 0; len < 40; len++) {
      assert.equal(crc32c(data, start, start + len), reference(data.subarray(start, start + len)));
    }
  }
  assert.equal(crc32c(data, 5, 300), reference(data.subarray(5)));
});

test('crc32c continues from a seed', () => {
  const data = Buffer.from('123456789');
  assert.equal(crc32c(data, 4, 9, crc32c(data, 0, 4)), 0xe3069283);
});

test('crc32c rejects a range outside the buffer', () => {
  assert.throws(() => crc32c(Buffer.alloc(4), 0, 5), RangeError);
});

test('crc32c over large ranges (the native path where installed) equals the JS loop and the reference', () => {
  const data = randomBytes(70_000);
  for (const [start, end] of [
    [0, 4096],
    [3, 4100],
    [21, 70_000],
    [1, 65_537],
  ]) {
    const want = reference(data.subarray(start, end));
    assert.equal(crc32c(data, start, end), want);
    assert.equal(crc32cJs(data, start, end, 0), want);
  }
  // Continuing from a seed across the native/JS boundary.
  assert.equal(crc32c(data, 5000, 70_000, crc32c(data, 0, 5000)), reference(data));
  assert.equal(crc32c(data, 100, 70_000, crc32c(data, 0, 100)), reference(data));
});
