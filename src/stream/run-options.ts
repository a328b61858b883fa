// What a pipeline run is told (RunOptions) and what it reports when it ends (RunSummary).

import type {
  LatencySummary,
  PipelineCounters,
  PipelineMetrics,
  ProgressSnapshot,
  TracingOptions,
} from '../observe/index.js';
import type { DeadLetterSink } from './interfaces.js';
import type { CheckpointStore } from './state/store.js';

export interface RunOptions {
  /** Where checkpoints go; without one the pipeline starts from the source's beginning. */
  checkpoints?: CheckpointStore;
  /** Checkpoint period; default 1000 ms. */
  checkpointIntervalMs?: number;
  /** Processing-time clock (ms) that checkpoint periods are measured on; tests pass a fake one. */
  clock?: () => number;
  /** Where bad records go; default: kept in memory (`run.deadLetters`). */
  deadLetters?: DeadLetterSink;
  /** Where records that arrive after their windows closed go; default: kept in memory (`run.lateRecords`). */
  lateRecords?: DeadLetterSink;
  /** Records per batch read from the source; default 1024. */
  batchSize?: number;
  /** Batches each stage may have waiting; default 4. A full queue pauses the stage before it. */
  queueCapacity?: number;
  /** Called about every `progressIntervalMs` (default 1000) with live figures. */
  onProgress?: (progress: ProgressSnapshot) => void;
  progressIntervalMs?: number;
  /**
   * OpenTelemetry traces of sampled records (docs/observe.md, "Traces"); default from the
   * standard `OTEL_*` environment variables (off when none is set); `false`: off whatever they say.
   */
  tracing?: TracingOptions | false;
  /**
   * The metrics of the run this one takes over from in the same process (a scaled-out back
   * half restarted by a rebalance): counters and histogram totals carry on from its figures
   * (`PipelineMetrics.carryOver`), so progress and /metrics never go back. The summary's
   * counters are then totals over both runs; its throughput is this run's. Counters that the
   * checkpoint store saved (a file store's) take precedence over the carried ones.
   */
  carryMetricsFrom?: PipelineMetrics;
}

export interface RunSummary {
  pipeline: string;
  counters: PipelineCounters;
  elapsedMs: number;
  /** Records finished per second of this run (restored counters excluded). */
  throughputEps: number;
  latencyMs: { e2e: LatencySummary; stages: Record<string, LatencySummary> };
  checkpoints: number;
  /** True when `stop()` ended the run before the source did. */
  stopped: boolean;
  /** Whether the run resumed from a checkpoint. */
  resumed: boolean;
}
