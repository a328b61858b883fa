// Issue 22: the CLI recognised errors by a code regex that missed BROKER_, so
// `sluice broker --port <busy port>` printed a raw stack. Every Sluice error now extends one base,
// and the CLI prints its message and code (the stack only with --debug), exit code 1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-cli-errors-'));
let busy: Server;
let port: number;

before(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  port = (busy.address() as AddressInfo).port;
});
after(() => {
  busy.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI to its exit (at most 30 s) and returns what it printed. */
function sluice(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, SLUICE_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    }),
  );
}

describe('the CLI on a Sluice error', () => {
  it('sluice broker --port <busy>: the message and its code, no stack, exit 1', async () => {
    const r = await sluice(['broker', '--port', String(port), '--data', join(tmp, 'a')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
    assert.match(r.stderr, /\[SLUICE_BROKER_LISTEN_FAILED\]/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace without --debug');
  });

  it('--debug (anywhere in the command line) adds the stack', async () => {
    const r = await sluice(['broker', '--port', String(port), '--debug', '--data', join(tmp, 'b')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\[SLUICE_BROKER_LISTEN_FAILED\]/);
    assert.match(r.stderr, /^\s+at /m, 'the stack with --debug');
  });

  it('a usage error still prints the usage, exit 2', async () => {
    const r = await sluice(['broker', '--port']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port N/);
  });
});
