// The protocol codec on its own: primitives in both encodings, bounds checks on hostile input,
// framing across arbitrary chunk boundaries, and a self-consistency round trip of every API's
// request and response spec at every advertised version.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_APIS } from '../../src/broker/apis/registry.js';
import { BrokerError, MalformedRequestError } from '../../src/broker/index.js';
import { FrameDecoder } from '../../src/broker/protocol/framing.js';
import { Reader } from '../../src/broker/protocol/reader.js';
import type { FieldDef, MessageSchema } from '../../src/broker/protocol/schema.js';
import { Writer } from '../../src/broker/protocol/writer.js';

test('primitives round trip in classic and flexible encodings', () => {
  const big = Buffer.alloc(10_000, 7);
  const w = new Writer(8)
    .int8(-5)
    .bool(true)
    .int16(-1234)
    .int32(-7)
    .int64(-1)
    .int64(2 ** 53 - 1)
    .int64(-(2 ** 40) - 3)
    .uvarint(0)
    .uvarint(127)
    .uvarint(128)
    .uvarint(2 ** 32 - 1)
    .string('héllo')
    .string(null)
    .compactString('')
    .compactString(null)
    .compactString('ü'.repeat(100))
    .bytes(Buffer.from([1, 2]))
    .bytes(null)
    .compactBytes(big)
    .compactBytes(null)
    .uuid(null);
  const chunks = w.chunks();
  assert.ok(chunks.includes(big), 'large byte fields are referenced, not copied');
  const r = new Reader(Buffer.concat(chunks));
  assert.equal(r.int8(), -5);
  assert.equal(r.bool(), true);
  assert.equal(r.int16(), -1234);
  assert.equal(r.int32(), -7);
  assert.equal(r.int64(), -1);
  assert.equal(r.int64(), 2 ** 53 - 1);
  assert.equal(r.int64(), -(2 ** 40) - 3);
  assert.deepEqual([r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()], [0, 127, 128, 2 ** 32 - 1]);
  assert.equal(r.string(), 'héllo');
  assert.equal(r.string(true), null);
  assert.equal(r.compactString(), '');
  assert.equal(r.compactString(true), null);
  assert.equal(r.compactString(), 'ü'.repeat(100));
  assert.deepEqual(r.bytes(), Buffer.from([1, 2]));
  assert.equal(r.bytes(true), null);
  assert.deepEqual(r.compactBytes(), big);
  assert.equal(r.compactBytes(true), null);
  assert.deepEqual(r.uuid(), Buffer.alloc(16));
  assert.equal(r.remaining, 0);
});

test('the reader refuses truncated data, lying lengths and nulls where none are allowed', () => {
  const malformed = (bytes: number[], read: (r: Reader) => unknown) =>
    assert.throws(() => read(new Reader(Buffer.from(bytes))), MalformedRequestError);
  malformed([0, 0, 0], (r) => r.int32());
  malformed([0, 5, 0x61], (r) => r.string());
  malformed([0xff, 0xff], (r) => r.string()); // null where the field is not nullable
  malformed([0xff, 0xfe], (r) => r.string(true)); // -2 is never valid
  malformed([0x7f, 0xff, 0xff, 0xff], (r) => r.arrayLength(false, false)); // 2^31-1 elements in 0 bytes
  malformed([0xff, 0xff, 0xff, 0xff, 0x0f], (r) => r.arrayLength(true, false)); // compact, same lie
  malformed([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], (r) => r.uvarint()); // longer than 5 bytes
  malformed([0x01, 0x05, 0x03, 0x00], (r) => r.skipTaggedFields()); // a tagged field past the end
  assert.equal(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).arrayLength(false, true), -1);
});

test('frames are found across any chunking, and bad sizes are refused', () => {
  const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 3), Buffer.from('xyz')];
  const stream = Buffer.concat(
    frames.flatMap((f) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(f.length);
      return [size, f];
    }),
  );
  for (const step of [1, 3, 4, 5, 1000, stream.length]) {
    const d = new FrameDecoder(1 << 20);
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) got.push(...d.push(stream.subarray(i, i + step)));
    assert.deepEqual(got, frames, `chunks of ${step}`);
    assert.equal(d.pending, 0);
  }
  const tooBig = Buffer.alloc(4);
  tooBig.writeInt32BE(2048);
  assert.throws(
    () => new FrameDecoder(1024).push(tooBig),
    (e: BrokerError) => e.code === 'SLUICE_BROKER_REQUEST_TOO_LARGE',
  );
  assert.throws(
    () => new FrameDecoder(1024).push(Buffer.from([0xff, 0xff, 0xff, 0xfe])),
    (e: BrokerError) => e.code === 'SLUICE_BROKER_REQUEST_TOO_LARGE',
  );
});

/** A value for every field of `fields`, unlike any default, so a dropped field shows. */
function sample(fields: FieldDef[], seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    const n = seed * 31 + i + 1;
    const values: Record<string, unknown> = {
      int8: n % 100,
      int16: n % 30000,
      int32: (n * 1000) % 2e9,
      int64: n * 1e9,
      bool: true,
      string: `s${n}`,
      bytes: Buffer.from(`b${n}`),
      records: Buffer.from(`r${n}`),
      uuid: Buffer.alloc(16, n),
      '[]int32': [n, n + 1],
      '[]int64': [n * 1e10],
      '[]string': [`a${n}`, `b${n}`],
      '[]': [sample(f.fields ?? [], n), sample(f.fields ?? [], n + 1)],
    };
    out[f.name] = values[f.type];
  });
  return out;
}

function roundTrip(schema: MessageSchema, version: number, value: object): void {
  const w = new Writer();
  schema.encode(w, version, value);
  const bytes = w.toBuffer();
  const r = new Reader(bytes);
  const decoded = schema.decode(r, version);
  assert.equal(r.remaining, 0, `${schema.def.name} v${version}: decode must consume the whole body`);
  const again = new Writer();
  schema.encode(again, version, decoded);
  assert.deepEqual(again.toBuffer(), bytes, `${schema.def.name} v${version}: encode(decode(x)) == x`);
}

test('every API spec round trips at every advertised version', () => {
  let checked = 0;
  for (const api of ALL_APIS) {
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      roundTrip(api.request, v, sample(api.request.def.fields, v));
      roundTrip(api.response, v, sample(api.response.def.fields, v));
      checked += 2;
    }
  }
  assert.ok(checked > 200, `checked ${checked} message versions`);
});
