// A lock file that keeps two Log instances (in this process or another) from writing the same
// directory, which would interleave batches and corrupt segments. Node has no flock, so the lock
// is a `.lock` file holding the owner's pid; a lock whose pid is gone is stale and taken over.

import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogError } from './errors.js';

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
  // A killed process can linger as a zombie until its parent reaps it (containers often have no
  // init that does): it answers kill(0) but holds nothing, so it must not keep the lock.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

/** Locks `dir` for this process; returns the function that unlocks it. */
export function lockDir(dir: string): () => void {
  const abs = resolve(dir);
  const path = join(abs, '.lock');
  if (heldHere.has(abs)) {
    throw new LogError(
      'LOG_LOCKED',
      `log directory ${abs} is already open in this process; reuse that Log or close it first`,
    );
  }
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
      throw new LogError(
        'LOG_LOCKED',
        `log directory ${abs} is in use by process ${owner}; stop it first (if no such process uses the log, delete ${path})`,
      );
    }
    writeFileSync(path, `${process.pid}\n`); // stale lock of a crashed process
  }
  heldHere.add(abs);
  return () => {
    heldHere.delete(abs);
    try {
      unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  };
}
