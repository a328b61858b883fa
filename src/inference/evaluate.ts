import { InvalidArgumentError } from './errors.js';

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (Mann–Whitney U with average ranks, equal to the
 * trapezoidal area scikit-learn's `roc_auc_score` gives). Needs both labels present.
 *
 * @example
 * rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.75
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, n } = checkScored(scores, labels, 'rocAuc');
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new InvalidArgumentError(
      `rocAuc needs both labels, but all ${n} labels are ${positives === 0 ? 0 : 1}`,
    );
  }
  const order = sortedIndices(scores, 1);
  let positiveRankSum = 0;
  for (let start = 0; start < n;) {
    let end = start;
    let groupPositives = 0;
    while (end < n && scores[order[end]!] === scores[order[start]!]) groupPositives += labels[order[end++]!]!;
    const averageRank = (start + 1 + end) / 2; // ranks start..end-1 are 1-based start+1..end
    positiveRankSum += groupPositives * averageRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision as scikit-learn defines it: Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score
 * thresholds, from the highest down (no interpolation). Needs at least one positive.
 *
 * @example
 * averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.8333…
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, n } = checkScored(scores, labels, 'averagePrecision');
  if (positives === 0)
    throw new InvalidArgumentError(`averagePrecision needs at least one label 1, but all ${n} labels are 0`);
  const order = sortedIndices(scores, -1);
  let truePositives = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end < n && scores[order[end]!] === scores[order[start]!]) truePositives += labels[order[end++]!]!;
    const recall = truePositives / positives;
    ap += (recall - previousRecall) * (truePositives / end);
    previousRecall = recall;
    start = end;
  }
  return ap;
}

/**
 * Fraction of positives among the `k` highest scores (k above n is read as n). Rows tied at
 * the cut-off count in proportion, i.e. the expected precision under a random tie-break, so the
 * result does not depend on input order.
 *
 * @example
 * precisionAtK([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0], 2); // 0.5
 */
export function precisionAtK(scores: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  const { n } = checkScored(scores, labels, 'precisionAtK');
  if (!Number.isInteger(k) || k < 1)
    throw new InvalidArgumentError(`precisionAtK: k is ${k}: pass a positive integer`);
  const take = Math.min(k, n);
  const order = sortedIndices(scores, -1);
  let hits = 0;
  for (let start = 0; start < take;) {
    let end = start;
    let groupPositives = 0;
    while (end < n && scores[order[end]!] === scores[order[start]!]) groupPositives += labels[order[end++]!]!;
    const slots = Math.min(end, take) - start;
    hits += (groupPositives * slots) / (end - start);
    start = end;
  }
  return hits / take;
}

function checkScored(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  fn: string,
): { positives: number; n: number } {
  const n = scores.length;
  if (labels.length !== n)
    throw new InvalidArgumentError(
      `${fn}: ${n} scores but ${labels.length} labels: pass one label per score`,
    );
  if (n === 0) throw new InvalidArgumentError(`${fn}: no scores: pass at least one scored row`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (label !== 0 && label !== 1)
      throw new InvalidArgumentError(`${fn}: labels[${i}] is ${label}: labels must be 0 or 1`);
    if (Number.isNaN(scores[i]))
      throw new InvalidArgumentError(`${fn}: scores[${i}] is NaN: drop or impute unscored rows first`);
    positives += label;
  }
  return { positives, n };
}

/** Row indices ordered by score (1: ascending, -1: descending); ties keep input order. */
function sortedIndices(scores: ArrayLike<number>, direction: 1 | -1): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => direction * (scores[a]! - scores[b]!) || a - b);
}
