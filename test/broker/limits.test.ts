// The broker's guards against exhausting clients, in process: the small request cap before
// SASL authentication is lifted by either handshake style, and the pieces of limits.ts (the
// per-address auth backoff, the connection cap). The process-level figures are in
// test/reliability/broker-limits.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthThrottle, ConnectionLimiter } from '../../src/broker/limits.js';
import { encodeRecordBatch } from '../../src/log/index.js';
import { defer, RawClient, testBroker } from './helpers.js';
import { part, produce } from './wire.js';

const USERS = { alice: 'wonder-land' };
const token = () => Buffer.from(`\u0000alice\u0000${USERS.alice}`);
const frame = (body: Buffer) => {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
};

test('with SASL, a request over 64 KiB before authentication closes the connection; after it, larger ones are served', async (t) => {
  const broker = await testBroker(t, { sasl: { users: USERS } });
  const stranger = await RawClient.connect(broker.port);
  stranger.raw(frame(Buffer.alloc(70 * 1024)));
  assert.ok(await stranger.waitClosed(5000), 'closed on the size prefix');
  assert.match(
    broker.warnings.join('\n'),
    /request size 71680 is outside 0\.\.65536 bytes \(maxUnauthenticatedRequestBytes/,
  );

  const big = encodeRecordBatch([{ value: Buffer.alloc(300 * 1024, 7) }], 0);
  // v1 handshake + SaslAuthenticate (librdkafka, @platformatic/kafka).
  const v1 = await RawClient.connect(broker.port);
  defer(t, () => v1.close());
  assert.equal((await v1.send(17, 1, { mechanism: 'PLAIN' })).errorCode, 0);
  assert.equal((await v1.send(36, 2, { authBytes: token() })).errorCode, 0);
  assert.equal(part(await produce(v1, 'big', 0, big)).errorCode, 0);

  // v0 handshake + a bare token frame (kafka-python); the answer is an empty frame.
  const v0 = await RawClient.connect(broker.port);
  defer(t, () => v0.close());
  assert.equal((await v0.send(17, 0, { mechanism: 'PLAIN' })).errorCode, 0);
  // The raw client cannot parse a frame without a correlation id: read this one around it.
  const rawClientReader = v0.socket.listeners('data')[0] as (chunk: Buffer) => void;
  v0.socket.off('data', rawClientReader);
  const empty = new Promise<Buffer>((resolve) => v0.socket.once('data', resolve));
  v0.raw(frame(token()));
  assert.deepEqual(await empty, Buffer.alloc(4));
  v0.socket.on('data', rawClientReader);
  assert.equal(part(await produce(v0, 'big', 0, big)).errorCode, 0);
});

test('without SASL, maxRequestBytes applies from the first request', async (t) => {
  const broker = await testBroker(t, { maxRequestBytes: 4096 });
  const c = await RawClient.connect(broker.port);
  c.raw(frame(Buffer.alloc(5000)));
  assert.ok(await c.waitClosed(5000));
  assert.match(
    broker.warnings.join('\n'),
    /request size 5000 is outside 0\.\.4096 bytes \(maxRequestBytes\)/,
  );
});

test('AuthThrottle: no delay without failures; after failures, attempts of one address are spaced by a doubling delay, one at a time', async () => {
  const throttle = new AuthThrottle(40, 160);
  const ok = throttle.attempt(
    '10.0.0.1',
    () => 'alice',
    (u) => u === null,
  );
  assert.equal(ok, 'alice', 'answered at once (not a promise)');
  const times: number[] = [];
  const fail = () => (times.push(Date.now()), null);
  const first = throttle.attempt('10.0.0.1', fail, (u) => u === null);
  assert.equal(first, null, 'the first failure is answered at once');
  // Five attempts at once, as from parallel connections: verified one after the other.
  await Promise.all(Array.from({ length: 5 }, () => throttle.attempt('10.0.0.1', fail, (u) => u === null)));
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const want = [40, 80, 160, 160, 160]; // doubling, capped at 160
  gaps.forEach((gap, i) => assert.ok(gap >= want[i]! - 5, `gap ${i} was ${gap} ms, want >= ${want[i]}`));
  assert.equal(throttle.failures('10.0.0.1'), 6);
  // Another address is not affected.
  assert.equal(
    throttle.attempt(
      '10.0.0.2',
      () => 'bob',
      (u) => u === null,
    ),
    'bob',
  );
});

test('ConnectionLimiter: caps in all and per address, released on close', () => {
  const warnings: string[] = [];
  const limiter = new ConnectionLimiter(3, 2, (m) => warnings.push(m));
  assert.deepEqual(
    ['a', 'a', 'a', 'b', 'c'].map((ip) => limiter.admit(ip)),
    [true, true, false, true, false],
  );
  assert.equal(warnings.length, 1, 'one line for a burst of refusals');
  assert.match(warnings[0]!, /maxConnectionsPerIp/);
  limiter.release('a');
  assert.equal(limiter.admit('c'), true);
  assert.equal(limiter.admit('a'), false, '3 open in all');
});
