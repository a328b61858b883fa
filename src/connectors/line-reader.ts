import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads a file as lines (Buffers without the newline; a trailing "\r" is cut), chunk by chunk,
 * so files larger than memory stream through. Bytes are not decoded: invalid UTF-8 reaches the
 * decoder as is, which rejects it with the reason.
 */
export class LineReader {
  private fd: number;
  private carry: Buffer = Buffer.alloc(0);
  private readonly chunk: Buffer;
  private eof = false;
  private lines: Buffer[] = [];
  private at = 0;

  constructor(
    readonly path: string,
    chunkBytes = 1 << 20,
  ) {
    this.fd = openSync(path, 'r');
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  /** The next line, or null at the end of the file. */
  next(): Buffer | null {
    while (this.at >= this.lines.length) {
      if (this.eof) return null;
      this.fill();
    }
    return this.lines[this.at++]!;
  }

  private fill(): void {
    this.lines = [];
    this.at = 0;
    const n = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
    if (n === 0) {
      this.eof = true;
      if (this.carry.length > 0) this.lines.push(trimCr(this.carry));
      this.carry = Buffer.alloc(0);
      return;
    }
    // Copy: the chunk buffer is reused by the next read, lines must outlive it.
    const data =
      this.carry.length > 0
        ? Buffer.concat([this.carry, this.chunk.subarray(0, n)])
        : Buffer.from(this.chunk.subarray(0, n));
    let pos = 0;
    for (let nl = data.indexOf(10, pos); nl >= 0; nl = data.indexOf(10, pos)) {
      this.lines.push(trimCr(data.subarray(pos, nl)));
      pos = nl + 1;
    }
    this.carry = data.subarray(pos);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function trimCr(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 13 ? b.subarray(0, b.length - 1) : b;
}

/** Counts the newline-terminated (or final) lines of a file without keeping them. */
export function countLines(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let count = 0;
  let last = 10;
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      for (let i = buf.indexOf(10, 0); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) count++;
      last = buf[n - 1]!;
    }
  } finally {
    closeSync(fd);
  }
  return last === 10 ? count : count + 1;
}
