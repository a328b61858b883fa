// A file of fixed-width index entries. Entries are kept in memory by their owners (lookups are
// binary searches, no syscalls) and written here in groups, so an append of a batch costs one
// log write, not three. Lost unwritten entries are harmless: recovery rebuilds them from the log.

import { closeSync, fsyncSync, ftruncateSync, readFileSync } from 'node:fs';
import { ioError, openReadWrite, writeFully } from './fs-util.js';

export class IndexFile {
  private fd = -1;

  constructor(
    readonly path: string,
    readonly entrySize: number,
  ) {}

  /** The file's bytes, or null when it does not exist. */
  readAll(): Buffer | null {
    try {
      return readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw ioError(`reading index ${this.path}`, err);
    }
  }

  /** Writes encoded entries starting at entry number `first`. */
  write(first: number, entries: Buffer): void {
    try {
      writeFully(this.open(), entries, first * this.entrySize);
    } catch (err) {
      throw ioError(`writing index ${this.path}`, err);
    }
  }

  /** Cuts the file to `entries` entries (creating it when missing). */
  truncate(entries: number): void {
    try {
      ftruncateSync(this.open(), entries * this.entrySize);
    } catch (err) {
      throw ioError(`truncating index ${this.path}`, err);
    }
  }

  sync(): void {
    if (this.fd < 0) return;
    try {
      fsyncSync(this.fd);
    } catch (err) {
      throw ioError(`fsync of index ${this.path}`, err);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private open(): number {
    if (this.fd < 0) this.fd = openReadWrite(this.path);
    return this.fd;
  }
}

/** Doubles a typed array's capacity, keeping its contents. */
export function grow<T extends Int32Array | Float64Array>(arr: T): T {
  const bigger = new (arr.constructor as new (n: number) => T)(arr.length * 2);
  bigger.set(arr);
  return bigger;
}
