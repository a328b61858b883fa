import { closeSync, openSync, readSync } from 'node:fs';
import type { FieldSpec, JsonSchema } from '../stream/index.js';

/**
 * The column names of a CSV file: its first line (a UTF-8 BOM dropped), split on the
 * delimiter, read without loading the file.
 *
 * @example
 * csvHeader('tx.csv'); // ['TRANSACTION_ID', 'TX_DATETIME', ...]
 */
export function csvHeader(path: string, delimiter = ','): string[] {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf
      .subarray(0, n)
      .toString('utf8')
      .split(/\r?\n/)[0]!
      .replace(/^\uFEFF/, '')
      .split(delimiter);
  } finally {
    closeSync(fd);
  }
}

/** Splits one CSV record (RFC 4180: quoted fields, "" escapes) into fields; null when a quote is left open. */
export function parseCsvRecord(line: string, delimiter = ','): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(field);
      if (i >= line.length) return out;
      if (line[i] !== delimiter) return null; // text after a closing quote
      i++;
    } else {
      const d = line.indexOf(delimiter, i);
      if (d < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, d));
      i = d + 1;
    }
  }
}

/** True when a line holds an odd number of quotes: the record goes on past the newline. */
export function opensQuote(line: Buffer): boolean {
  let n = 0;
  for (let i = line.indexOf(34); i >= 0; i = line.indexOf(34, i + 1)) n++;
  return n % 2 === 1;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A CSV cell as a JSON value: converted to the schema's type where it parses (else left a
 * string, so the decoder names the field and the bad value); without a schema, numbers and
 * booleans are recognised. Empty cells are left out (a required field is then "missing").
 */
export function csvValue(cell: string, spec: FieldSpec | undefined): unknown {
  // A nested spec (object or array) or `'number[]'`: the cell holds JSON.
  const type = typeof spec === 'string' && !spec.includes('[]') ? spec.replace('?', '') : spec && 'object';
  if (cell === '') return type === 'string' ? '' : undefined;
  switch (type) {
    case 'string':
      return cell;
    case 'number':
    case 'integer':
      return NUMBER.test(cell.trim()) ? Number(cell) : cell;
    case 'boolean':
      return /^(true|false)$/i.test(cell) ? cell.toLowerCase() === 'true' : cell;
    case 'object':
    case 'array':
      try {
        return JSON.parse(cell) as unknown;
      } catch {
        return cell;
      }
    default:
      // No schema: numbers without leading zeros (ids like "007" stay strings), then booleans.
      if (NUMBER.test(cell) && !/^[+-]?0\d/.test(cell)) return Number(cell);
      if (cell === 'true' || cell === 'false') return cell === 'true';
      return cell;
  }
}

/** A parsed CSV row as a JSON object of the header's columns. */
export function csvRowObject(
  header: string[],
  cells: string[],
  schema: JsonSchema | undefined,
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < header.length && i < cells.length; i++) {
    const v = csvValue(cells[i]!, schema?.[header[i]!]);
    if (v !== undefined) obj[header[i]!] = v;
  }
  return obj;
}
