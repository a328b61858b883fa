// A lock file that keeps two Log instances (in this process or another) from writing the same
// directory, which would interleave batches and corrupt segments. Node has no flock, so the lock
// is a `.lock` file holding the owner's pid; a lock whose pid is gone is stale and taken over.
//
// Both steps are atomic, so two processes started together never both hold the lock:
// - taking a free lock: the pid is written to a private temporary file first, which is then
//   link(2)ed to `.lock`; link fails with EEXIST when `.lock` exists, so exactly one racer
//   creates it, and the file never exists without its pid (an empty `.lock` read by a racer
//   between create and write would look stale);
// - breaking a stale lock: only the holder of a claim file `.lock.takeover-<inode>` (created
//   with O_EXCL) may delete a `.lock` of that inode, and it re-checks under the claim that
//   `.lock` is still that inode naming a dead pid. A racer that read the same stale lock finds
//   the claim taken or, later, a different (live) lock. After the delete every racer goes back
//   to the link step, where one wins.

import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { LogError } from './errors.js';

const heldHere = new Set<string>();
/** Attempts before giving up; each round either takes the lock, finds a live owner or loses a race. */
const MAX_ROUNDS = 200;
const pause = new Int32Array(new SharedArrayBuffer(4));

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

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** The inode and pid of the file at `path` (read through one descriptor), or null if there is none. */
function readLock(path: string): { ino: number; pid: number } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const buf = Buffer.alloc(32);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { ino: fstatSync(fd).ino, pid: Number.parseInt(buf.toString('latin1', 0, n), 10) };
  } finally {
    closeSync(fd);
  }
}

/** A lock naming a process that is gone (or no pid at all: a lock file of an older version cut short). */
function stale(pid: number): boolean {
  return !Number.isInteger(pid) || pid === process.pid || !alive(pid);
}

/** Creates `path` with our pid in it if there is no such file; false if one exists. */
function tryCreate(path: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, `${process.pid}\n`, { flag: 'wx' });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    throw err;
  } finally {
    // Also after a failed write (a full disk): leave no temporary file behind.
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
  }
}

/** Deletes `.lock` if it is still the stale file `ino`; at most one process at a time does this per inode. */
function breakStale(path: string, ino: number): void {
  const claim = `${path}.takeover-${ino}`;
  if (!tryCreate(claim)) {
    const taker = readLock(claim);
    // A claim outlives its holder only if that process died inside the few statements below.
    if (taker && stale(taker.pid)) unlinkSync(claim);
    else Atomics.wait(pause, 0, 0, 2); // another process is taking over: let it finish
    return;
  }
  try {
    const now = readLock(path);
    if (now && now.ino === ino && stale(now.pid)) unlinkSync(path);
  } finally {
    unlinkSync(claim);
  }
}

/** Locks `dir` for this process; returns the function that unlocks it. */
export function lockDir(dir: string): () => void {
  const abs = resolve(dir);
  const path = join(abs, '.lock');
  if (heldHere.has(abs)) {
    throw new LogError(
      'SLUICE_LOG_LOCKED',
      `log directory ${abs} is already open in this process; reuse that Log or close it first`,
    );
  }
  for (let round = 0; !tryCreate(path); round++) {
    const lock = readLock(path);
    if (lock === null) continue; // released or broken meanwhile: try to create it again
    if (!stale(lock.pid) || round >= MAX_ROUNDS) {
      throw new LogError(
        'SLUICE_LOG_LOCKED',
        `log directory ${abs} is in use by process ${lock.pid}; stop it first (if no such process uses the log, delete ${path})`,
      );
    }
    breakStale(path, lock.ino);
  }
  const { ino } = statSync(path);
  heldHere.add(abs);
  return () => {
    heldHere.delete(abs);
    try {
      // Only our own file: never delete a lock that someone else took over after us.
      if (readLock(path)?.ino === ino) unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  };
}
