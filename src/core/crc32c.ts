// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka RecordBatch v2.
// Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per step instead of 1,
// which is several times faster in V8 than the byte-at-a-time table loop.

const POLY = 0x82f63b78;

// One Int32Array holding the 8 tables back to back: table k lives at [k * 256, k * 256 + 256).
// Int32 (not Uint32) keeps every element a small integer in V8, so XORs never box to doubles.
const T = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + i] = c;
    }
  }
  return t;
}

/**
 * CRC-32C of `buf[start, end)`. Pass the previous result as `seed` to continue a checksum
 * over several ranges.
 *
 * @example
 * crc32c(Buffer.from('123456789')) === 0xe3069283; // true
 * crc32c(batch, 21, batch.length);                  // a RecordBatch's CRC field
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new RangeError(`crc32c range [${start}, ${end}) is outside the buffer (length ${buf.length})`);
  }
  let crc = ~seed;
  let i = start;
  const end8 = end - ((end - start) % 8);
  for (; i < end8; i += 8) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    crc =
      T[1792 + (a & 0xff)] ^
      T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^
      T[1024 + (a >>> 24)] ^
      T[768 + buf[i + 4]] ^
      T[512 + buf[i + 5]] ^
      T[256 + buf[i + 6]] ^
      T[buf[i + 7]];
  }
  for (; i < end; i++) crc = T[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
