// Issue 20, item 9: `sluice broker --host 0.0.0.0` without SASL gave no warning, and a broker
// started on a full disk printed a stack trace.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-broker-start-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts `sluice broker`, waits for "listening on" (or its exit), stops it; resolves with its output. */
async function brokerOutput(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [bin, 'broker', '--port', '0', ...args], {
    env: { ...process.env, SLUICE_BROKER_USERS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const started = Date.now();
  while (!/listening on/.test(stdout) && child.exitCode === null && Date.now() - started < 30_000)
    await new Promise((r) => setTimeout(r, 50));
  if (child.exitCode === null) child.kill('SIGTERM');
  const code = await exited;
  return { stdout, stderr, code };
}

/** A 64 KiB tmpfs filled to the last byte, or the reason there cannot be one here. */
function fullDisk(): string | { skip: string } {
  const dir = join(tmp, 'full');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0)
    return {
      skip: `cannot mount a small tmpfs to fill (needs root): ${(r.stderr || r.error?.message || '').trim()}`,
    };
  after(() => spawnSync('umount', [dir]));
  try {
    writeFileSync(join(dir, 'fill'), Buffer.alloc(1 << 20));
  } catch {
    // ENOSPC: full, as wanted
  }
  return dir;
}

describe('sluice broker at start', () => {
  it(
    'warns when it listens beyond loopback without SASL, and not when SASL is on',
    { timeout: 90_000 },
    async () => {
      const open = await brokerOutput(['--host', '0.0.0.0', '--data', join(tmp, 'open')], {});
      assert.match(open.stdout, /listening on 0\.0\.0\.0:\d+/);
      assert.match(
        open.stderr,
        /WARNING: listening on 0\.0\.0\.0:\d+ without authentication.*SLUICE_BROKER_USERS/,
      );
      const sasl = await brokerOutput(['--host', '0.0.0.0', '--data', join(tmp, 'sasl')], {
        SLUICE_BROKER_USERS: 'alice:s3cret-pw',
      });
      assert.match(sasl.stdout, /listening on 0\.0\.0\.0:\d+/);
      assert.doesNotMatch(sasl.stderr, /WARNING/);
    },
  );

  const disk = fullDisk();
  it(
    'on a full disk: one clear line and exit 1, no stack trace',
    { timeout: 60_000, skip: typeof disk === 'string' ? false : disk.skip },
    async () => {
      const r = await brokerOutput(['--data', join(disk as string, 'data')], {});
      assert.equal(r.code, 1);
      assert.doesNotMatch(r.stdout, /listening/);
      assert.match(
        r.stderr,
        /^sluice broker: opening the log directory .*data failed: ENOSPC: no space left on device.*check free disk space.*\[SLUICE_LOG_IO_ERROR\]\n$/,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    },
  );
});
