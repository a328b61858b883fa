/**
 * Parity check between two feature files for the same records, e.g. the features the live
 * pipeline computed (`sluice demo fraud --features-out`) and a backfill's training set
 * (`sluice train fraud --input … --features-out`): rows are matched by a key column, every
 * column both files have is compared (numbers within a relative tolerance, text exactly).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { SluiceError } from '../../core/errors.js';
import { readParquet } from '../../core/parquet-reader.js';

export interface FeaturesDiffOptions {
  /** Column that identifies a record in both files (default TRANSACTION_ID, else the first column). */
  key?: string;
  /** |a − b| ≤ tolerance × max(1, |a|, |b|) counts as equal (default 1e-9). */
  tolerance?: number;
  /** How many mismatching cells to list (default 10). */
  examples?: number;
}

export interface FeaturesDiff {
  key: string;
  /** Columns compared (in both files, key excluded). */
  columns: string[];
  /** Columns in only one file (not compared). */
  onlyInA: string[];
  onlyInB: string[];
  /** Records matched by key. */
  matched: number;
  /** Keys in one file only. */
  missingInB: number;
  missingInA: number;
  /** Mismatching cells, in all, and per column (only columns with any). */
  mismatches: number;
  mismatchesByColumn: Record<string, number>;
  /** The first few mismatches. */
  examples: { key: string; column: string; a: string; b: string }[];
}

/** Header and rows of a feature file: Parquet (by extension, as Sluice writes it) or CSV. */
function readTable(path: string): { header: string[]; rows: string[][] } {
  if (!['.parquet', '.parq'].includes(extname(path).toLowerCase())) return readCsv(path);
  const t = readParquet(path);
  // Cells as CSV text: timestamps in ISO 8601 (compared as instants), nulls empty.
  const ts = t.columns.map((c) => c.timestampMs);
  return {
    header: t.columns.map((c) => c.name),
    rows: t.rows.map((r) =>
      r.map((v, i) => (v === null ? '' : ts[i] ? new Date(v as number).toISOString() : String(v))),
    ),
  };
}

/** Header and rows of a plain CSV (no quoted fields: feature files are numbers and ids). */
function readCsv(path: string): { header: string[]; rows: string[][] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SluiceError('SLUICE_OPTION_INVALID', `cannot read ${path}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0)
    throw new SluiceError('SLUICE_OPTION_INVALID', `${path} is empty: expected a CSV header`);
  if (text.includes('"'))
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `${path} has quoted fields: features diff reads plain CSV`,
    );
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** Epoch ms of `YYYY-MM-DD HH:MM:SS[.fff]` (UTC, the handbook's layout) or ISO 8601 with a zone. */
function instant(s: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  return m ? Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`) : NaN;
}

function sameCell(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (a.trim() === '' || b.trim() === '') return false;
  // A time as the CSV writes it and as a Parquet timestamp (ISO): the same instant is equal.
  if (!Number.isFinite(x) || !Number.isFinite(y))
    return !Number.isNaN(instant(a)) && instant(a) === instant(b);
  return Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x), Math.abs(y));
}

/**
 * Compares two feature files (CSV, or Parquet as Sluice writes it) record by record.
 *
 * @example
 * const d = diffFeatureFiles('online.csv', 'backfill.csv');
 * if (d.mismatches > 0 || d.missingInA + d.missingInB > 0) console.log(d.examples);
 */
export function diffFeatureFiles(pathA: string, pathB: string, opts: FeaturesDiffOptions = {}): FeaturesDiff {
  const a = readTable(pathA);
  const b = readTable(pathB);
  const key = opts.key ?? (a.header.includes('TRANSACTION_ID') ? 'TRANSACTION_ID' : a.header[0]!);
  const ka = a.header.indexOf(key);
  const kb = b.header.indexOf(key);
  if (ka < 0 || kb < 0)
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `key column ${key} is not in ${ka < 0 ? pathA : pathB}: name one both files have with --key`,
    );
  const columns = a.header.filter((c) => c !== key && b.header.includes(c));
  const pairs = columns.map((c) => [c, a.header.indexOf(c), b.header.indexOf(c)] as const);
  const byKey = new Map<string, string[]>();
  for (const row of b.rows) byKey.set(row[kb]!, row);
  const tolerance = opts.tolerance ?? 1e-9;
  const result: FeaturesDiff = {
    key,
    columns,
    onlyInA: a.header.filter((c) => !b.header.includes(c)),
    onlyInB: b.header.filter((c) => !a.header.includes(c)),
    matched: 0,
    missingInB: 0,
    missingInA: 0,
    mismatches: 0,
    mismatchesByColumn: {},
    examples: [],
  };
  const seen = new Set<string>();
  for (const row of a.rows) {
    const id = row[ka]!;
    const other = byKey.get(id);
    if (!other) {
      result.missingInB++;
      continue;
    }
    seen.add(id);
    result.matched++;
    for (const [column, ia, ib] of pairs) {
      const x = row[ia] ?? '';
      const y = other[ib] ?? '';
      if (sameCell(x, y, tolerance)) continue;
      result.mismatches++;
      result.mismatchesByColumn[column] = (result.mismatchesByColumn[column] ?? 0) + 1;
      if (result.examples.length < (opts.examples ?? 10))
        result.examples.push({ key: id, column, a: x, b: y });
    }
  }
  for (const id of byKey.keys()) if (!seen.has(id)) result.missingInA++;
  return result;
}
