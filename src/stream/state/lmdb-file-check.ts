// Checks of an LMDB `data.mdb` before it is opened. LMDB memory-maps the file and trusts it: a
// truncated file kills the process with SIGBUS when a page past the end is touched, zeroed
// header or root pages with SIGSEGV, without a message. These checks read the two meta pages and
// the root pages they name, so such a file gives a clear error instead.
//
// Layout (LMDB as built by lmdb-js 3, 64-bit, little-endian): every page starts with a 24-byte
// header whose first 8 bytes are the page's own number. Pages 0 and 1 are meta pages; the one
// with the larger txnid is current. Meta, from byte 24 of its page:
//   magic u32 @24 (0xBEEFC0DE), version u32 @28, address @32, mapsize @40,
//   dbs[2] @48 (48 bytes each: pad u32 = page size for dbs[0], flags u16, depth u16,
//   branch/leaf/overflow pages, entries, root pgno: u64 each, root @+40),
//   last_pg u64 @144, txnid u64 @152.

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

export const LMDB_MAGIC = 0xbeefc0de;
export const LMDB_DATA_VERSION = 2;

const META_MAGIC = 24;
const META_VERSION = 28;
const META_PAGE_SIZE = 48;
const META_DB_ROOTS = [48 + 40, 96 + 40];
const META_LAST_PAGE = 144;
const META_TXNID = 152;
const NO_PAGE = 2 ** 64 - 1; // P_INVALID: an empty database has no root

interface Meta {
  pageSize: number;
  lastPage: number;
  txnid: number;
  roots: number[];
}

function u64(buf: Buffer, pos: number): number {
  return Number(buf.readBigUInt64LE(pos));
}

function readAt(fd: number, length: number, pos: number): Buffer {
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, pos);
  return buf;
}

function readMeta(fd: number, page: number, pageSize: number): Meta | string {
  const buf = readAt(fd, 160, page * pageSize);
  const magic = buf.readUInt32LE(META_MAGIC);
  if (magic !== LMDB_MAGIC)
    return `meta page ${page} has magic 0x${magic.toString(16)}, not 0x${LMDB_MAGIC.toString(16)} (zeroed or overwritten)`;
  const version = buf.readUInt32LE(META_VERSION);
  if (version !== LMDB_DATA_VERSION)
    return `meta page ${page} has format version ${version}, expected ${LMDB_DATA_VERSION}`;
  return {
    pageSize: buf.readUInt32LE(META_PAGE_SIZE),
    lastPage: u64(buf, META_LAST_PAGE),
    txnid: u64(buf, META_TXNID),
    roots: META_DB_ROOTS.map((at) => u64(buf, at)),
  };
}

/**
 * Why the LMDB environment in directory `dir` must not be opened, or null when its file is
 * absent (a new store) or passes: size a whole number of pages and at least the two meta pages,
 * both meta pages with LMDB's magic and version, the current one's root pages inside the file,
 * and each root page it names carrying its own page number.
 */
export function lmdbFileProblem(dir: string): string | null {
  const path = join(dir, 'data.mdb');
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 160) return `the file has ${size} bytes, less than one meta page (truncated)`;
    const first = readMeta(fd, 0, 0);
    if (typeof first === 'string') return first;
    const pageSize = first.pageSize;
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
      return `meta page 0 gives page size ${pageSize}, not a power of two from 512 to 65536`;
    if (size < 2 * pageSize)
      return `the file has ${size} bytes, less than its two ${pageSize}-byte meta pages (truncated)`;
    if (size % pageSize !== 0)
      return `the file has ${size} bytes, not a whole number of ${pageSize}-byte pages (truncated)`;
    const second = readMeta(fd, 1, pageSize);
    if (typeof second === 'string') return second;
    const meta = second.txnid > first.txnid ? second : first;
    const pages = size / pageSize;
    // Not a check of last_pg against the size: LMDB allocates pages it may free again in the same
    // transaction without ever writing them, so after a kill -9 a sound file can end before
    // last_pg (seen: last_pg 83 in an 83-page file). The root pages are read at open: they must
    // be inside the file and carry their own number.
    for (const root of meta.roots) {
      if (root === NO_PAGE) continue;
      if (root > meta.lastPage) return `a root page number ${root} is past the last page ${meta.lastPage}`;
      if (root >= pages) return `root page ${root} is past the end of the file (${pages} pages: truncated)`;
      const own = u64(readAt(fd, 8, root * pageSize), 0);
      if (own !== root) return `root page ${root} names itself page ${own} (zeroed or overwritten)`;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}
