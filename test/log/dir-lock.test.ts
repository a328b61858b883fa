import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lockDir } from '../../src/log/dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-dir-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => mkdtempSync(join(root, `d${n++}-`));
const deadPid = Number(
  spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    .stdout,
);

test('a lock naming a dead pid is taken over, and released by its new owner only', () => {
  const dir = fresh();
  writeFileSync(join(dir, '.lock'), `${deadPid}\n`);
  const unlock = lockDir(dir);
  assert.equal(readFileSync(join(dir, '.lock'), 'utf8'), `${process.pid}\n`);
  assert.deepEqual(readdirSync(dir), ['.lock'], 'no temporary or claim file is left behind');
  unlock();
  assert.equal(existsSync(join(dir, '.lock')), false);
});

test('a lock of a live process is refused; an empty lock (an old version cut short) is stale', () => {
  const dir = fresh();
  writeFileSync(join(dir, '.lock'), `${process.ppid}\n`);
  assert.throws(() => lockDir(dir), {
    code: 'SLUICE_LOG_LOCKED',
    message: new RegExp(`in use by process ${process.ppid}`),
  });
  writeFileSync(join(dir, '.lock'), '');
  lockDir(dir)();
});

test('a takeover claim left by a process that died while taking over does not block the lock', () => {
  const dir = fresh();
  writeFileSync(join(dir, '.lock'), `${deadPid}\n`);
  const { ino } = statSync(join(dir, '.lock'));
  writeFileSync(join(dir, `.lock.takeover-${ino}`), `${deadPid}\n`);
  const unlock = lockDir(dir);
  assert.deepEqual(readdirSync(dir), ['.lock']);
  unlock();
});
