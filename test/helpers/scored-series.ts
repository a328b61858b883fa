// A hand-made NAB series for scoring tests (the scorer's and the research's cross-validation).

import type { ScoredSeries } from '../../src/apps/anomaly/nab-scorer.js';

/** 100 rows one minute apart (probation 15 rows), windows given as row ranges, detections as rows. */
export function scoredSeries(windows: [number, number][], detections: number[], n = 100): ScoredSeries {
  const times = Array.from({ length: n }, (_, i) => i * 60_000);
  const scores = new Array(n).fill(0);
  for (const d of detections) scores[d] = 1;
  return {
    name: 's',
    times,
    windows: windows.map(([a, b]) => [times[a]!, times[b]!] as [number, number]),
    scores,
  };
}
