// Request versions as old clients send them, written and read here byte by byte from the
// protocol spec (not with the broker's own schemas): Produce v2 (advertised for librdkafka's
// codec check, refused with UNSUPPORTED_VERSION when used, as Kafka does since KAFKA-18659) and
// Fetch v2 (kafka-go 0.2) get an error response the client can parse, never a closed connection;
// OffsetCommit v1 (sarama 1.22) is implemented.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { encodeRecordBatch } from '../../src/log/index.js';
import { defer, testBroker } from './helpers.js';

const str = (s: string) => {
  const b = Buffer.alloc(2 + Buffer.byteLength(s));
  b.writeInt16BE(Buffer.byteLength(s));
  b.write(s, 2);
  return b;
};
const i16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const i64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

/** A connection that sends request v1-header frames and returns each response body (after the correlation id). */
async function oldClient(port: number) {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let pending = Buffer.alloc(0);
  const waiters: ((b: Buffer) => void)[] = [];
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
      pending = pending.subarray(4 + frame.length);
      waiters.shift()?.(frame.subarray(4));
    }
  });
  let cid = 0;
  return {
    get closed() {
      return closed;
    },
    close: () => socket.destroy(),
    send(apiKey: number, version: number, body: Buffer[]): Promise<Buffer> {
      const payload = Buffer.concat([i16(apiKey), i16(version), i32(++cid), str('old-client'), ...body]);
      socket.write(Buffer.concat([i32(payload.length), payload]));
      return new Promise((resolve, reject) => {
        waiters.push(resolve);
        socket.once('close', () =>
          reject(new Error(`connection closed instead of answering api ${apiKey} v${version}`)),
        );
      });
    },
  };
}

/** A reader over a response body. */
function reader(b: Buffer) {
  let pos = 0;
  return {
    i16: () => ((pos += 2), b.readInt16BE(pos - 2)),
    i32: () => ((pos += 4), b.readInt32BE(pos - 4)),
    i64: () => ((pos += 8), Number(b.readBigInt64BE(pos - 8))),
    str: () => {
      const n = b.readInt16BE(pos);
      pos += 2 + n;
      return b.toString('utf8', pos - n, pos);
    },
    bytes: () => {
      const n = b.readInt32BE(pos);
      pos += 4 + Math.max(n, 0);
      return n < 0 ? null : b.subarray(pos - n, pos);
    },
    get left() {
      return b.length - pos;
    },
  };
}

test('Produce v2 gets UNSUPPORTED_VERSION per partition in the v2 format; nothing is stored; the connection stays', async (t) => {
  const broker = await testBroker(t);
  broker.log.createTopic('old', { partitions: 1 });
  const c = await oldClient(broker.port);
  defer(t, () => c.close());
  const batch = encodeRecordBatch([{ value: Buffer.from('x') }], 0);
  // Produce v2: acks timeout [topic [partition records]]
  const body = [i16(-1), i32(5000), i32(1), str('old'), i32(1), i32(0), i32(batch.length), batch];
  const r = reader(await c.send(0, 2, body));
  assert.equal(r.i32(), 1, 'one topic');
  assert.equal(r.str(), 'old');
  assert.equal(r.i32(), 1, 'one partition');
  assert.equal(r.i32(), 0, 'partition 0');
  assert.equal(r.i16(), 35, 'UNSUPPORTED_VERSION');
  assert.equal(r.i64(), -1, 'base offset');
  assert.equal(r.i64(), -1, 'log append time (v2)');
  assert.equal(r.i32(), 0, 'throttle time (v1+)');
  assert.equal(r.left, 0, 'exactly the v2 response');
  assert.equal(broker.log.partition('old', 0).highWatermark, 0, 'nothing stored');
  // Still serving: a v3 produce on the same connection works.
  const v3 = [Buffer.from([0xff, 0xff]), ...body]; // transactional_id null, then the v2 fields
  const ok = reader(await c.send(0, 3, v3));
  ok.i32();
  ok.str();
  ok.i32();
  ok.i32();
  assert.equal(ok.i16(), 0);
  assert.equal(broker.log.partition('old', 0).highWatermark, 1);
  assert.equal(c.closed, false);
});

test('Fetch v2 (not advertised) gets UNSUPPORTED_VERSION per partition in the v2 format, not a closed connection', async (t) => {
  const broker = await testBroker(t);
  broker.log.createTopic('old', { partitions: 2 });
  broker.log.partition('old', 0).append([{ value: Buffer.from('x') }]);
  const c = await oldClient(broker.port);
  defer(t, () => c.close());
  // Fetch v2: replica max_wait min_bytes [topic [partition fetch_offset max_bytes]]
  const body = [
    i32(-1),
    i32(100),
    i32(1),
    i32(1),
    str('old'),
    i32(2),
    i32(0),
    i64(0),
    i32(1 << 20),
    i32(1),
    i64(0),
    i32(1 << 20),
  ];
  const r = reader(await c.send(1, 2, body));
  assert.equal(r.i32(), 0, 'throttle time');
  assert.equal(r.i32(), 1);
  assert.equal(r.str(), 'old');
  assert.equal(r.i32(), 2);
  for (const p of [0, 1]) {
    assert.equal(r.i32(), p);
    assert.equal(r.i16(), 35, `partition ${p}: UNSUPPORTED_VERSION`);
    assert.equal(r.i64(), -1, 'high watermark');
    const records = r.bytes();
    assert.ok(records === null || records.length === 0, 'no records');
  }
  assert.equal(r.left, 0, 'exactly the v2 response');
  assert.equal(c.closed, false);
});

test('OffsetCommit v1 (sarama 1.22) commits, and the offset reads back', async (t) => {
  const broker = await testBroker(t);
  broker.log.createTopic('old', { partitions: 1 });
  const c = await oldClient(broker.port);
  defer(t, () => c.close());
  // OffsetCommit v1: group generation member [topic [partition offset timestamp metadata]]
  const body = [
    str('g1'),
    i32(-1),
    str(''),
    i32(1),
    str('old'),
    i32(1),
    i32(0),
    i64(7),
    i64(-1),
    str('meta'),
  ];
  const r = reader(await c.send(8, 1, body));
  assert.equal(r.i32(), 1);
  assert.equal(r.str(), 'old');
  assert.equal(r.i32(), 1);
  assert.equal(r.i32(), 0);
  assert.equal(r.i16(), 0, 'committed');
  assert.equal(r.left, 0, 'exactly the v1 response (no throttle time before v3)');
  // OffsetFetch v1: group [topic [partition]] -> [topic [partition offset metadata error]]
  const f = reader(await c.send(9, 1, [str('g1'), i32(1), str('old'), i32(1), i32(0)]));
  f.i32();
  f.str();
  f.i32();
  assert.equal(f.i32(), 0);
  assert.equal(f.i64(), 7);
  assert.equal(f.str(), 'meta');
  assert.equal(f.i16(), 0);
});
