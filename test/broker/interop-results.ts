// Where the interop tests put their results: one JSON line per cell (client × feature) appended
// to $SLUICE_INTEROP_RESULTS, or to sluice-interop-results.jsonl in the temp dir. Test files run
// in separate processes, so each appends its own lines; `scripts/interop-table.ts` keeps the
// newest line per cell and renders the matrix in docs/broker.md.

import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type CellStatus = 'pass' | 'fail' | 'n.a.';

export interface InteropCell {
  client: string;
  feature: string;
  status: CellStatus;
  /** What was checked, or why it failed or does not apply. */
  detail: string;
  /** The test file that produced it. */
  test: string;
  at: string;
}

export const RESULTS_PATH =
  process.env.SLUICE_INTEROP_RESULTS || join(tmpdir(), 'sluice-interop-results.jsonl');

/** Appends cells to the results file (one write, so parallel test files do not interleave lines). */
export function recordCells(test: string, cells: Omit<InteropCell, 'test' | 'at'>[]): void {
  const at = new Date().toISOString();
  const lines = cells.map((c) => JSON.stringify({ ...c, test, at }) + '\n').join('');
  appendFileSync(RESULTS_PATH, lines);
}
