// One depth-limited regression tree grown on gradient histograms (second-order boosting step).
import type { FeatureBins } from './histogram-bins.js';

/**
 * A regression tree as flat node arrays (preorder, root 0). A node with `left[k] === -1` is a
 * leaf worth `value[k]`; otherwise rows with `x[feature[k]] <= threshold[k]` go left, the rest
 * (and NaN) go right — exactly ONNX-ML's `BRANCH_LEQ` with missing values on the false branch.
 *
 * @example
 * const leaf = treeValue(tree, row, 0);
 */
export interface RegressionTree {
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf values (float32-exact, learning rate applied); 0 on branch nodes. */
  value: Float64Array;
}

/**
 * How a tree grows.
 *
 * @example
 * const opts: TreeGrowth = { maxDepth: 3, minSamplesLeaf: 20, minChildWeight: 1e-3, l2: 1, learningRate: 0.1 };
 */
export interface TreeGrowth {
  maxDepth: number;
  minSamplesLeaf: number;
  /** Least hessian sum in a child. */
  minChildWeight: number;
  /** L2 penalty on leaf values (XGBoost's lambda). */
  l2: number;
  /** Shrinks every leaf value. */
  learningRate: number;
}

/**
 * The leaf value a row reaches.
 *
 * @example
 * let margin = base; for (const t of trees) margin += treeValue(t, X, i * f);
 */
export function treeValue(tree: RegressionTree, X: ArrayLike<number>, at: number): number {
  let k = 0;
  while (tree.left[k] !== -1)
    k = X[at + tree.feature[k]!]! <= tree.threshold[k]! ? tree.left[k]! : tree.right[k]!;
  return tree.value[k]!;
}

/**
 * Grows one tree on gradients `g` and hessians `h`: at each node, per feature, a histogram of
 * (Σg, Σh, count) per bin, and the split maximizing
 * `GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ)`; leaves are `−lr · G/(H+λ)`. Ties keep the first
 * feature and bin, so growth is deterministic. Calls `onLeaf(rows, value)` for every leaf.
 *
 * @example
 * const tree = growTree(bins, g, h, opts, (rows, v) => { for (const r of rows) margin[r] += v; });
 */
export function growTree(
  b: FeatureBins,
  g: Float64Array,
  h: Float64Array,
  o: TreeGrowth,
  onLeaf: (rows: Uint32Array, value: number) => void,
): RegressionTree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const maxBins = Math.max(1, ...b.thresholds.map((t) => t.length + 1));
  const G = new Float64Array(maxBins);
  const H = new Float64Array(maxBins);
  const C = new Uint32Array(maxBins);

  const grow = (rows: Uint32Array, depth: number): number => {
    const k = feature.length;
    feature.push(0);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    value.push(0);
    let gSum = 0;
    let hSum = 0;
    for (const r of rows) {
      gSum += g[r]!;
      hSum += h[r]!;
    }
    const split =
      depth < o.maxDepth && rows.length >= 2 * o.minSamplesLeaf ? bestSplit(rows, gSum, hSum) : undefined;
    if (split === undefined) {
      const v = Math.fround((-o.learningRate * gSum) / (hSum + o.l2));
      value[k] = v;
      onLeaf(rows, v);
      return k;
    }
    const { j, bin } = split;
    const column = b.bins.subarray(j * b.n, (j + 1) * b.n);
    let nLeft = 0;
    for (const r of rows) if (column[r]! <= bin) nLeft++;
    const lRows = new Uint32Array(nLeft);
    const rRows = new Uint32Array(rows.length - nLeft);
    let li = 0;
    let ri = 0;
    for (const r of rows) {
      if (column[r]! <= bin) lRows[li++] = r;
      else rRows[ri++] = r;
    }
    feature[k] = j;
    threshold[k] = b.thresholds[j]![bin]!;
    left[k] = grow(lRows, depth + 1);
    right[k] = grow(rRows, depth + 1);
    return k;
  };

  const bestSplit = (
    rows: Uint32Array,
    gSum: number,
    hSum: number,
  ): { j: number; bin: number } | undefined => {
    const parent = (gSum * gSum) / (hSum + o.l2);
    let best = 1e-12;
    let found: { j: number; bin: number } | undefined;
    for (let j = 0; j < b.f; j++) {
      const cuts = b.thresholds[j]!.length;
      if (cuts === 0) continue;
      G.fill(0, 0, cuts + 1);
      H.fill(0, 0, cuts + 1);
      C.fill(0, 0, cuts + 1);
      const column = b.bins.subarray(j * b.n, (j + 1) * b.n);
      for (const r of rows) {
        const bin = column[r]!;
        G[bin]! += g[r]!;
        H[bin]! += h[r]!;
        C[bin]!++;
      }
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let bin = 0; bin < cuts; bin++) {
        gl += G[bin]!;
        hl += H[bin]!;
        cl += C[bin]!;
        const cr = rows.length - cl;
        if (cl < o.minSamplesLeaf || cr < o.minSamplesLeaf) continue;
        const hr = hSum - hl;
        if (hl < o.minChildWeight || hr < o.minChildWeight) continue;
        const gr = gSum - gl;
        const gain = (gl * gl) / (hl + o.l2) + (gr * gr) / (hr + o.l2) - parent;
        if (gain > best) {
          best = gain;
          found = { j, bin };
        }
      }
    }
    return found;
  };

  grow(
    Uint32Array.from({ length: b.n }, (_, i) => i),
    0,
  );
  return {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
  };
}
