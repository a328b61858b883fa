import type { LatencySummary } from './histogram.js';
import { WindowedHistogram } from './windowed-histogram.js';

/** Counters every pipeline keeps; restored from checkpoints so totals survive restarts. */
export interface PipelineCounters {
  /** Records read from the source. */
  in: number;
  /** Records that left the last stage (acted on, or deliberately dropped by a filter). */
  processed: number;
  /** Records sent to the dead-letter output. */
  deadLetters: number;
  /** Action effects performed (not counting duplicates skipped by idempotency). */
  actions: number;
  /** Actions skipped because their idempotency key was already done. */
  duplicateActions: number;
}

/** One tick of live progress. */
export interface ProgressSnapshot {
  elapsedMs: number;
  intervalMs: number;
  counters: PipelineCounters;
  /** Records processed per second over the last interval. */
  eps: number;
  lag: number;
  e2e: LatencySummary;
}

export function emptyCounters(): PipelineCounters {
  return { in: 0, processed: 0, deadLetters: 0, actions: 0, duplicateActions: 0 };
}

/**
 * Latency histograms per stage and end to end, plus counters, for one pipeline.
 * Stages are registered in pipeline order, so summaries list them as they run.
 *
 * @example
 * const m = new PipelineMetrics('fraud');
 * m.stage('decode').record(0.01);
 * m.e2e.record(3.2);
 * m.counters.processed += 1;
 */
export class PipelineMetrics {
  readonly counters: PipelineCounters = emptyCounters();
  readonly e2e = new WindowedHistogram();
  private readonly stages = new Map<string, WindowedHistogram>();
  private readonly startedAt = performance.now();
  private lastTickAt = this.startedAt;
  private lastProcessed = 0;

  constructor(readonly pipeline: string) {}

  /** The histogram of a stage, created on first use. */
  stage(name: string): WindowedHistogram {
    let h = this.stages.get(name);
    if (!h) {
      h = new WindowedHistogram();
      this.stages.set(name, h);
    }
    return h;
  }

  stageNames(): string[] {
    return [...this.stages.keys()];
  }

  /** Closes the live window and reports it; call about once per second. */
  tick(lag: number): ProgressSnapshot {
    const now = performance.now();
    const intervalMs = now - this.lastTickAt;
    const done = this.counters.processed + this.counters.deadLetters;
    const eps = intervalMs > 0 ? ((done - this.lastProcessed) * 1000) / intervalMs : 0;
    this.lastTickAt = now;
    this.lastProcessed = done;
    for (const h of this.stages.values()) h.rollover();
    return {
      elapsedMs: now - this.startedAt,
      intervalMs,
      counters: { ...this.counters },
      eps,
      lag,
      e2e: this.e2e.rollover(),
    };
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Per-stage summaries over the whole run, in pipeline order. */
  stageSummaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [name, h] of this.stages) out[name] = h.summary();
    return out;
  }
}
