// A client cannot exhaust `sluice broker` (issue 20, item 5). The broker runs as its own process
// with SASL on; its memory is read from /proc/PID/status. Checked: 8 unauthenticated
// connections each sending an unfinished 99 MB frame (refused on the size prefix), a half-sent
// request and an idle connection (closed by the receive and idle timeouts), the per-address
// connection cap, and the guess rate of a password-guessing client (backoff per address).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../broker/helpers.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-broker-limits-'));
const SECRET = 'pw-41d9';
const MB = 1024 * 1024;

/** A field of /proc/PID/status in bytes (VmRSS: resident now, VmHWM: the peak so far). */
function procBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

const token = (password: string) => Buffer.from(`\u0000alice\u0000${password}`);

/** SaslHandshake v1 + SaslAuthenticate v2; resolves with the error code (0 = in). */
async function login(c: RawClient, password: string): Promise<number> {
  assert.equal((await c.send(17, 1, { mechanism: 'PLAIN' })).errorCode, 0);
  return (await c.send(36, 2, { authBytes: token(password) })).errorCode as number;
}

/** A raw socket, resolved once connected. */
function socketTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with ms until `s` is closed by the other side, or -1 after `ms`. */
function closedWithin(s: Socket, ms: number): Promise<number> {
  const started = Date.now();
  if (s.destroyed) return Promise.resolve(0);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** Sends a frame header announcing `size` bytes, then `size - 1` of them, as fast as the socket takes them. */
async function sendUnfinishedFrame(s: Socket, size: number): Promise<number> {
  s.on('error', () => {});
  const header = Buffer.alloc(4);
  header.writeInt32BE(size);
  s.write(header);
  const chunk = Buffer.alloc(MB, 1);
  let sent = 0;
  while (sent < size - 1 && !s.destroyed) {
    const n = Math.min(chunk.length, size - 1 - sent);
    sent += n;
    if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      await new Promise((r) => {
        s.once('drain', r);
        s.once('close', r);
      });
    }
  }
  return sent;
}

describe('broker limits (a client cannot exhaust the broker)', () => {
  let child: ChildProcess;
  let port = 0;
  let output = '';

  before(async () => {
    child = spawn(
      process.execPath,
      [
        bin,
        'broker',
        '--port',
        '0',
        '--data',
        join(tmp, 'data'),
        // Short timeouts so the test sees them act (defaults: 30 s, 10 min, 30 s).
        '--request-receive-timeout-ms',
        '1500',
        '--idle-timeout-ms',
        '2500',
        '--auth-timeout-ms',
        '60000',
        '--max-connections-per-ip',
        '40',
      ],
      { env: { ...process.env, SLUICE_BROKER_USERS: `alice:${SECRET}` }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const started = Date.now();
    while (!/listening on/.test(output) && child.exitCode === null && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    const m = /listening on \S+:(\d+)/.exec(output);
    assert.ok(m, `the broker did not start: ${output}`);
    port = Number(m[1]);
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'a half-sent request and an idle connection are closed by the timeouts',
    { timeout: 60_000 },
    async () => {
      // Unauthenticated: 10 bytes of a 50-byte ApiVersions request, then nothing.
      const half = await socketTo(port);
      half.on('error', () => {});
      half.write(Buffer.from([0, 0, 0, 50, 0, 18, 0, 3, 0, 0]));
      // Authenticated: 1 MB of a 10 MB Produce, then nothing (allowed in size, never finished).
      const big = await RawClient.connect(port);
      assert.equal(await login(big, SECRET), 0);
      const header = Buffer.alloc(4);
      header.writeInt32BE(10 * MB);
      big.raw(Buffer.concat([header, Buffer.alloc(MB)]));
      // Authenticated, then silent.
      const idle = await RawClient.connect(port);
      assert.equal(await login(idle, SECRET), 0);
      const [halfMs, bigMs, idleMs] = await Promise.all([
        closedWithin(half, 15_000),
        closedWithin(big.socket, 15_000),
        closedWithin(idle.socket, 15_000),
      ]);
      assert.ok(halfMs >= 0, 'a half-sent unauthenticated request is closed (request receive timeout)');
      assert.ok(bigMs >= 0, 'a half-sent authenticated request is closed (request receive timeout)');
      assert.ok(idleMs >= 0, 'an idle connection is closed (idle timeout)');
      assert.ok(idleMs >= 1500, `not before the idle timeout (closed after ${idleMs} ms)`);
      assert.match(output, /not received whole within 1500 ms/);
      console.log(
        `# half-sent requests closed after ${halfMs} and ${bigMs} ms, idle connection after ${idleMs} ms`,
      );
    },
  );

  it(
    '8 unauthenticated connections sending unfinished 99 MB frames raise RSS by under 50 MB',
    { timeout: 120_000 },
    async () => {
      const pid = child.pid!;
      const rssBefore = procBytes(pid, 'VmRSS');
      const peakBefore = procBytes(pid, 'VmHWM');
      const sockets = await Promise.all(Array.from({ length: 8 }, () => socketTo(port)));
      const closes = sockets.map((s) => closedWithin(s, 30_000));
      const sent = await Promise.all(sockets.map((s) => sendUnfinishedFrame(s, 99_000_000)));
      await new Promise((r) => setTimeout(r, 500));
      const rssAfter = procBytes(pid, 'VmRSS');
      const peakAfter = procBytes(pid, 'VmHWM');
      const closedMs = await Promise.all(closes);
      for (const s of sockets) s.destroy();
      const growth = Math.max(rssAfter - rssBefore, peakAfter - Math.max(peakBefore, rssBefore));
      console.log(
        `# 8 x unfinished 99 MB frames: RSS ${Math.round(rssBefore / MB)} -> ${Math.round(rssAfter / MB)} MB, peak ${Math.round(peakBefore / MB)} -> ${Math.round(peakAfter / MB)} MB; clients got ${Math.round(sent.reduce((a, b) => a + b, 0) / MB)} MB out before the broker closed them`,
      );
      assert.ok(growth < 50 * MB, `the broker grew by ${Math.round(growth / MB)} MB`);
      assert.ok(
        closedMs.every((ms) => ms >= 0),
        'every connection is closed by the broker',
      );
      assert.match(
        output,
        /request size 99000000 is outside 0\.\.65536 bytes \(maxUnauthenticatedRequestBytes/,
      );
      // The broker still serves a well-behaved client.
      const ok = await RawClient.connect(port);
      assert.equal(await login(ok, SECRET), 0);
      const md = await ok.send(3, 9, { topics: [{ name: 'limits' }], allowAutoTopicCreation: true });
      assert.equal(md.topics[0].errorCode, 0);
      ok.close();
    },
  );

  it(
    'connections from one address beyond --max-connections-per-ip are closed at once',
    { timeout: 60_000 },
    async () => {
      await new Promise((r) => setTimeout(r, 300)); // the earlier tests' closes reach the broker
      const sockets = await Promise.all(Array.from({ length: 50 }, () => socketTo(port)));
      const closed = await Promise.all(sockets.map((s) => closedWithin(s, 2000)));
      for (const s of sockets) s.destroy();
      assert.equal(closed.filter((ms) => ms >= 0).length, 10, '40 kept, 10 refused');
      assert.match(output, /refused \d+ connection\(s\).*maxConnectionsPerIp/);
    },
  );

  it(
    'password guessing is slowed down per address (backoff on failed authentication)',
    { timeout: 60_000 },
    async () => {
      const WINDOW_MS = 4000;
      const PARALLEL = 16;
      let guesses = 0;
      const clients = new Set<RawClient>();
      const end = Date.now() + WINDOW_MS;
      const guesser = async (n: number) => {
        for (let i = 0; Date.now() < end; i++) {
          const c = await RawClient.connect(port);
          clients.add(c);
          try {
            if ((await login(c, `guess-${n}-${i}`)) === 58 && Date.now() <= end) guesses++;
          } catch {
            // closed by the broker or by the end of the window
          }
          c.close();
          clients.delete(c);
        }
      };
      const timer = setTimeout(() => {
        for (const c of clients) c.close();
      }, WINDOW_MS);
      await Promise.all(Array.from({ length: PARALLEL }, (_, n) => guesser(n)));
      clearTimeout(timer);
      const perSecond = guesses / (WINDOW_MS / 1000);
      console.log(
        `# password guessing with ${PARALLEL} parallel connections: ${guesses} guesses in ${WINDOW_MS} ms = ${perSecond.toFixed(1)}/s`,
      );
      assert.ok(guesses >= 1, 'wrong passwords are answered with SASL_AUTHENTICATION_FAILED');
      assert.ok(perSecond < 20, `${perSecond}/s guesses`);
      // The right password still gets in (after this address's current backoff, at most 5 s).
      const ok = await RawClient.connect(port);
      const started = Date.now();
      assert.equal(await login(ok, SECRET), 0);
      console.log(`# the right password got in after ${Date.now() - started} ms`);
      ok.close();
      assert.ok(!output.includes(SECRET) && !output.includes('guess-'), 'no password in the broker output');
    },
  );
});
