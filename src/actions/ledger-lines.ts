// The line format of the action ledger: one JSON object a line, ending with its own checksum,
//   {"key":"p/alert/tx-7@7","action":"alert","payload":{...},"time":1700000000000,"crc32c":"1a2b3c4d"}
// The CRC-32C covers the line's bytes before `,"crc32c":` (the entry's JSON without its closing
// brace), so a line stays plain JSON for any reader while a changed byte anywhere is detected.
// Ledgers written before checksums existed have no `crc32c` field: such lines are accepted as long
// as they come before the first checksummed line (an old file that a newer version appended to);
// a line without a checksum after a checksummed one is damage.

import { crc32c } from '../core/crc32c.js';
import type { LedgerEntry } from './ledger.js';

const SUFFIX_HEAD = Buffer.from(',"crc32c":"');
/** `,"crc32c":"` + 8 hex digits + `"}` */
const SUFFIX_LENGTH = SUFFIX_HEAD.length + 8 + 2;

let scratch = Buffer.alloc(4096);

/** The ledger line (with its newline) of `e`. */
export function encodeLine(e: LedgerEntry): string {
  const body = JSON.stringify(e).slice(0, -1);
  const bytes = Buffer.byteLength(body);
  if (bytes > scratch.length) scratch = Buffer.alloc(Math.max(bytes, scratch.length * 2));
  scratch.write(body, 0, 'utf8');
  const crc = crc32c(scratch, 0, bytes).toString(16).padStart(8, '0');
  return `${body},"crc32c":"${crc}"}\n`;
}

/** One newline-terminated line of a ledger file, judged. */
export interface ScannedLine {
  /** The entry, or null when the line is damaged. */
  entry: LedgerEntry | null;
  /** Why the line is damaged (null when it is whole). */
  damage: string | null;
  /** 1-based line number in the file. */
  line: number;
  start: number;
  /** Offset after the line's newline. */
  end: number;
  /** Whether the line carried a checksum. */
  checked: boolean;
}

function hasSuffix(buf: Buffer, start: number, nl: number): boolean {
  const at = nl - SUFFIX_LENGTH;
  return (
    at >= start &&
    buf[nl - 1] === 0x7d && // }
    buf[nl - 2] === 0x22 && // "
    buf.compare(SUFFIX_HEAD, 0, SUFFIX_HEAD.length, at, at + SUFFIX_HEAD.length) === 0
  );
}

function parse(text: string): LedgerEntry | null {
  try {
    const e = JSON.parse(text) as LedgerEntry & { crc32c?: string };
    if (e === null || typeof e !== 'object' || typeof e.key !== 'string') return null;
    delete e.crc32c;
    return e;
  } catch {
    return null;
  }
}

/**
 * Every newline-terminated line of `buf`, judged; bytes after the last newline (a torn write)
 * are not yielded.
 */
export function* scanLines(buf: Buffer): Generator<ScannedLine> {
  let pos = 0;
  let line = 0;
  let sawChecksum = false;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) return;
    line++;
    const start = pos;
    pos = nl + 1;
    const checked = hasSuffix(buf, start, nl);
    let damage: string | null = null;
    let entry: LedgerEntry | null = null;
    if (checked) {
      sawChecksum = true;
      const stored = Number.parseInt(buf.toString('latin1', nl - 10, nl - 2), 16);
      const actual = crc32c(buf, start, nl - SUFFIX_LENGTH);
      if (stored !== actual)
        damage = `checksum mismatch (stored ${buf.toString('latin1', nl - 10, nl - 2)}, computed ${actual.toString(16).padStart(8, '0')})`;
    } else if (sawChecksum) {
      damage = 'no checksum after checksummed lines';
    }
    if (damage === null) {
      entry = parse(buf.toString('utf8', start, nl));
      if (entry === null) damage = 'not a JSON ledger entry';
    }
    yield { entry, damage, line, start, end: pos, checked };
  }
}

/** The key of a damaged line if its JSON still parses (its action was done: keep deduplicating it). */
export function damagedKey(buf: Buffer, l: ScannedLine): string | null {
  return parse(buf.toString('utf8', l.start, l.end - 1))?.key ?? null;
}
