// Small synchronous file helpers for the log. The log uses sync fs calls on purpose: an append
// is one write of a whole batch (microseconds), and sync calls avoid a promise and a thread-pool
// hop per batch on the hot path.

import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LogError } from './errors.js';

/** Opens `path` for positional reads and writes, creating it when missing (never truncating). */
export function openReadWrite(path: string): number {
  try {
    return openSync(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return openSync(path, 'w+');
  }
}

/** Writes all of `buf` at file position `position` (writeSync may write less than asked). */
export function writeFully(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    done += writeSync(fd, buf, done, buf.length - done, position + done);
  }
}

/** Reads up to `length` bytes at `position` into `buf[offset..]`; returns how many (fewer only at EOF). */
export function readFully(
  fd: number,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** fsyncs a directory so that a file created or renamed in it survives a crash. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // some platforms (Windows) cannot open directories; rename is as durable as it gets there
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EPERM on file systems without directory fsync: nothing more can be done
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `data` atomically: write a temp file, fsync it, rename, fsync the directory. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFully(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Wraps a file-system failure in a LogError that says what was being done. */
export function ioError(what: string, err: unknown): LogError {
  const detail = err instanceof Error ? err.message : String(err);
  return new LogError(
    'SLUICE_LOG_IO_ERROR',
    `${what} failed: ${detail}; check free disk space and permissions`,
    {
      cause: err,
    },
  );
}
