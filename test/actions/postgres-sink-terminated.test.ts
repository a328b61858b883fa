// A server that ends a session right as it becomes ready (pg_terminate_backend racing a new
// connection, seen once in CI): node-postgres parses ReadyForQuery and the FATAL error from the
// same TCP chunk in one go, so the pool hands the new client out (taking its own error listener
// off) and the client emits the error before the sink's code, which runs a microtask later, can
// listen. Without a listener on every client the pool makes, that 'error' event was uncaught
// and took the process down; now the write fails, is retried, and ends as a clear error.
// The server here speaks just that much of the protocol (PostgreSQL docs, "Message Formats").

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import { postgresActionSink } from '../../src/index.js';

/** One backend message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

const fields = (f: Record<string, string>) =>
  Buffer.concat([...Object.entries(f).map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')), Buffer.from([0])]);

/** AuthenticationOk, ReadyForQuery and FATAL 57P01 in one write, then the socket closes. */
const READY_THEN_TERMINATED = Buffer.concat([
  message('R', int32(0)),
  message('K', Buffer.concat([int32(4242), int32(1)])),
  message('Z', Buffer.from('I')),
  message(
    'E',
    fields({
      S: 'FATAL',
      V: 'FATAL',
      C: '57P01',
      M: 'terminating connection due to administrator command',
    }),
  ),
]);

let sessions = 0;
const server: Server = createServer((socket) => {
  socket.on('error', () => {});
  socket.once('data', () => {
    sessions++;
    socket.write(READY_THEN_TERMINATED, () => setTimeout(() => socket.destroy(), 5));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('a session terminated as it becomes ready is retried and ends as a clear error, not an uncaught one', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  // The test runner would fail the test on an uncaught exception too, but without saying why.
  process.prependListener('uncaughtException', onUncaught);
  try {
    const sink = postgresActionSink({
      url: `postgres://postgres@127.0.0.1:${port}/test`,
      table: 'never_created',
      backoff: { retries: 2, initialDelayMs: 10 },
    });
    await assert.rejects(sink.open!({ pipeline: 'terminated' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLUICE_ACTION_UNAVAILABLE');
      assert.match(err.message, /creating the table failed: .*is Postgres running and reachable/);
      return true;
    });
    await sink.close?.();
    assert.equal(sessions, 3, 'the first attempt and both retries each opened a session');
    assert.deepEqual(uncaught, []);
  } finally {
    process.removeListener('uncaughtException', onUncaught);
  }
});
