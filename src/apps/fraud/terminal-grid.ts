// Which terminals each simulated customer may use (the handbook's "available terminals"): those
// strictly within a radius of home, found through a grid of cells at least the radius wide, so
// only the 3 × 3 block around a customer's cell is searched instead of every terminal.

import { HANDBOOK } from './transaction.js';

/** Positions in the handbook's square (0..HANDBOOK.area)². */
export interface Points {
  x: Float64Array;
  y: Float64Array;
}

/**
 * CSR lists of the terminals strictly within `radius` of each customer, found through a grid:
 * customer c may use `ids[offsets[c] .. offsets[c + 1])`, ascending.
 */
export function terminalsWithinRadius(
  customers: Points,
  terminals: Points,
  radius: number,
): [offsets: Int32Array, ids: Int32Array] {
  const C = customers.x.length;
  const T = terminals.x.length;
  const area = HANDBOOK.area;
  const cells = Math.max(1, Math.min(512, Math.floor(area / Math.max(radius, 1e-9))));
  const cellSize = area / cells; // >= radius, so neighbours are in the 3 × 3 block
  const cellOf = (v: number): number => Math.min(cells - 1, Math.max(0, Math.floor(v / cellSize)));
  const cellStart = new Int32Array(cells * cells + 1);
  const terminalCell = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    const cell = cellOf(terminals.y[t]) * cells + cellOf(terminals.x[t]);
    terminalCell[t] = cell;
    cellStart[cell + 1]++;
  }
  for (let i = 0; i < cells * cells; i++) cellStart[i + 1] += cellStart[i];
  const fill = cellStart.slice(0, cells * cells);
  const byCell = new Int32Array(T); // ascending terminal ids within each cell
  for (let t = 0; t < T; t++) byCell[fill[terminalCell[t]]++] = t;

  const r2 = radius * radius;
  const offsets = new Int32Array(C + 1);
  let ids = new Int32Array(Math.max(16, C * 8));
  let n = 0;
  for (let c = 0; c < C; c++) {
    const x = customers.x[c];
    const y = customers.y[c];
    const cx = cellOf(x);
    const cy = cellOf(y);
    const start = n;
    for (let gy = Math.max(0, cy - 1); gy <= Math.min(cells - 1, cy + 1); gy++) {
      for (let gx = Math.max(0, cx - 1); gx <= Math.min(cells - 1, cx + 1); gx++) {
        const cell = gy * cells + gx;
        for (let j = cellStart[cell]; j < cellStart[cell + 1]; j++) {
          const t = byCell[j];
          const dx = x - terminals.x[t];
          const dy = y - terminals.y[t];
          if (dx * dx + dy * dy < r2) {
            if (n === ids.length) {
              const bigger = new Int32Array(ids.length * 2);
              bigger.set(ids);
              ids = bigger;
            }
            ids[n++] = t;
          }
        }
      }
    }
    ids.subarray(start, n).sort();
    offsets[c + 1] = n;
  }
  return [offsets, ids.slice(0, n)];
}
