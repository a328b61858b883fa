/**
 * The min-heap (weakest at the root) that keeps an item's strongest neighbours while a row is
 * ranked, over reused typed arrays, and the one order shared by neighbours and candidates.
 */

/** Min-heap (weakest at the root) insert of (j, w) at slot `at` = the current size. */
export function siftUp(hi: Int32Array, hw: Float64Array, at: number, j: number, w: number): void {
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if (!better(hw[parent]!, hi[parent]!, w, j)) break;
    hi[at] = hi[parent]!;
    hw[at] = hw[parent]!;
    at = parent;
  }
  hi[at] = j;
  hw[at] = w;
}

/** Replaces the root of a min-heap of `size` entries by (j, w) and restores the heap. */
export function siftDown(hi: Int32Array, hw: Float64Array, size: number, j: number, w: number): void {
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    if (child + 1 < size && better(hw[child]!, hi[child]!, hw[child + 1]!, hi[child + 1]!)) child++;
    if (!better(w, j, hw[child]!, hi[child]!)) break;
    hi[at] = hi[child]!;
    hw[at] = hw[child]!;
    at = child;
  }
  hi[at] = j;
  hw[at] = w;
}

/**
 * Whether (score, id) ranks above (thanScore, thanId): a higher score, or the lower id on a tie.
 * One order for candidates (item ids) and for an item's neighbours (dense indexes).
 */
export const better = (score: number, id: number, thanScore: number, thanId: number) =>
  score > thanScore || (score === thanScore && id < thanId);
