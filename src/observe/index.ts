export { wallClockMs } from './clock.js';
export { LatencyHistogram, type LatencySummary } from './histogram.js';
export { WindowedHistogram } from './windowed-histogram.js';
export {
  PipelineMetrics,
  emptyCounters,
  type PipelineCounters,
  type ProgressSnapshot,
} from './pipeline-metrics.js';
