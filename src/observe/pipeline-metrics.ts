import { bucketKey, recordedMicros, type LatencySummary } from './histogram.js';
import { monotonicMs, type Clock } from './sliding-histogram.js';
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
  /** Records that arrived after their windows closed (sent to the late output). */
  late: number;
}

/** One tick of live progress. */
export interface ProgressSnapshot {
  elapsedMs: number;
  intervalMs: number;
  counters: PipelineCounters;
  /** Records processed per second over the last interval. */
  eps: number;
  lag: number;
  /** Log append → action done, over the last interval. */
  e2e: LatencySummary;
  /** Event time → action done, over the last interval. */
  eventTime: LatencySummary;
  /** Each stage's latency over the last interval, in pipeline order. */
  stages: Record<string, LatencySummary>;
  /** Lag per "topic/partition", when the source can tell. */
  partitionLag: Record<string, number> | undefined;
  /** How far behind the newest record each "topic/partition" is, in ms (Kinesis MillisBehindLatest). */
  partitionLagMs?: Record<string, number> | undefined;
  /** Records per batch entering each async stage, over the last interval (counts, not ms). */
  batchSizes: Record<string, LatencySummary>;
  /** Checkpoint durations over the last interval. */
  checkpoint: LatencySummary;
}

/** Circuit-breaker states, as resilience libraries (cockatiel) name them. */
export type BreakerState = 'closed' | 'open' | 'half-open';

export function emptyCounters(): PipelineCounters {
  return { in: 0, processed: 0, deadLetters: 0, actions: 0, duplicateActions: 0, late: 0 };
}

const live = new Map<string, WeakRef<PipelineMetrics>>();

/**
 * Latency histograms per stage and end to end, plus counters and gauges, for one pipeline.
 * Stages are registered in pipeline order, so summaries list them as they run. Everything is
 * aggregated here (per batch or per tick); exporters read it, they never see single events.
 *
 * @example
 * const m = new PipelineMetrics('fraud');
 * m.stage('decode').record(0.01);
 * m.e2e.record(3.2);
 * m.counters.processed += 1;
 * m.countLate('window', 3); // a windowing stage saw 3 late records
 * m.setBreakerState('fraud-model', 'open');
 */
export class PipelineMetrics {
  readonly counters: PipelineCounters = emptyCounters();
  /** Log append → action done. */
  readonly e2e: WindowedHistogram;
  /** Event time → action done (includes how late the events arrived). */
  readonly eventTime: WindowedHistogram;
  /** Time to make a checkpoint durable (flush sinks + commit state and offsets). */
  readonly checkpointDuration: WindowedHistogram;
  /** Size of the last checkpoint's state changes, in bytes (approximate). */
  lastCheckpointBytes = 0;
  checkpointBytesTotal = 0;
  /** Source lag (records) and per-partition lag as of the last tick. */
  lag = 0;
  partitionLag: Record<string, number> | undefined;
  /** Ms behind the newest record per partition, for sources that tell time rather than records. */
  partitionLagMs: Record<string, number> | undefined;
  /** Dead letters per stage that rejected them; late records per stage that saw them. */
  readonly deadLettersByStage = new Map<string, number>();
  readonly lateRecords = new Map<string, number>();
  readonly breakers = new Map<string, BreakerState>();
  /** Records each infer stage holds while it waits for a model that is unavailable (0: none). */
  readonly waiting = new Map<string, number>();
  readonly queues = new Map<string, { depth: () => number; capacity: number }>();
  private readonly stages = new Map<string, WindowedHistogram>();
  private readonly batches = new Map<string, WindowedHistogram>();
  private readonly modelCalls = new Map<string, WindowedHistogram>();
  private readonly batchWaits = new Map<string, WindowedHistogram>();
  private readonly listeners = new Set<(p: ProgressSnapshot) => void>();
  private readonly startedAt: number;
  private lastTickAt: number;
  private lastProcessed = 0;

  constructor(
    readonly pipeline: string,
    private readonly clock: Clock = monotonicMs,
  ) {
    this.startedAt = this.lastTickAt = clock();
    this.e2e = new WindowedHistogram(clock);
    this.eventTime = new WindowedHistogram(clock);
    this.checkpointDuration = new WindowedHistogram(clock);
    live.set(pipeline, new WeakRef(this));
  }

  /**
   * The metrics of the running pipeline with this name (the latest one started), for layers
   * that have no handle on the run: e.g. a window operator counting late records.
   *
   * @example
   * PipelineMetrics.live('fraud')?.countLate('features');
   */
  static live(pipeline: string): PipelineMetrics | undefined {
    return live.get(pipeline)?.deref();
  }

  /**
   * Carries on from the metrics of an earlier run of the same pipeline in this process, which
   * this one replaces (a scaled-out worker's back half after a rebalance): counters, dead
   * letters and late records by stage, checkpoint bytes and histogram totals start from its
   * figures, so what /metrics and progress report never goes back; breakers keep their last
   * known state. Other gauges (lag, queues) and sliding windows start afresh. Call before the
   * run starts.
   *
   * @example
   * const next = new PipelineMetrics('fraud');
   * next.carryOver(previousRun.metrics); // next.counters.in === previousRun.metrics.counters.in
   */
  carryOver(previous: PipelineMetrics): void {
    const c = this.counters as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(previous.counters)) c[k] = (c[k] ?? 0) + v;
    for (const [stage, n] of previous.deadLettersByStage)
      this.deadLettersByStage.set(stage, (this.deadLettersByStage.get(stage) ?? 0) + n);
    for (const [stage, n] of previous.lateRecords)
      this.lateRecords.set(stage, (this.lateRecords.get(stage) ?? 0) + n);
    this.checkpointBytesTotal += previous.checkpointBytesTotal;
    // A breaker's last known state, until this run's first model call reports it again: a
    // restarted run that sees no records would otherwise drop the series.
    for (const [breaker, state] of previous.breakers) this.breakers.set(breaker, state);
    this.e2e.carryTotal(previous.e2e);
    this.eventTime.carryTotal(previous.eventTime);
    this.checkpointDuration.carryTotal(previous.checkpointDuration);
    for (const [name, h] of previous.stages) this.stage(name).carryTotal(h);
    for (const [name, h] of previous.batches) this.batchSize(name).carryTotal(h);
    for (const [name, h] of previous.modelCalls) this.modelCall(name).carryTotal(h);
    for (const [name, h] of previous.batchWaits) this.batchWait(name).carryTotal(h);
    // The first tick's rate counts this run's records only.
    this.lastProcessed = this.counters.processed + this.counters.deadLetters;
  }

  recordCheckpoint(ms: number, bytes: number): void {
    this.checkpointDuration.record(ms);
    this.lastCheckpointBytes = bytes;
    this.checkpointBytesTotal += bytes;
  }

  /** The histogram of a stage, created on first use. */
  stage(name: string): WindowedHistogram {
    let h = this.stages.get(name);
    if (!h) {
      h = new WindowedHistogram(this.clock);
      this.stages.set(name, h);
    }
    return h;
  }

  stageNames(): string[] {
    return [...this.stages.keys()];
  }

  /** Records per batch entering a stage (values are record counts, not ms). */
  batchSize(stage: string): WindowedHistogram {
    let h = this.batches.get(stage);
    if (!h) {
      h = new WindowedHistogram(this.clock);
      this.batches.set(stage, h);
    }
    return h;
  }

  batchStages(): string[] {
    return [...this.batches.keys()];
  }

  /** Duration of each model call of an infer stage (one value per call, whatever its rows). */
  modelCall(stage: string): WindowedHistogram {
    return histogramOf(this.modelCalls, stage, this.clock);
  }

  modelCallStages(): string[] {
    return [...this.modelCalls.keys()];
  }

  /**
   * Time records waited in the queue in front of an async stage (model, sink) before it took
   * their batch: one value per batch, counted once per record.
   */
  batchWait(stage: string): WindowedHistogram {
    return histogramOf(this.batchWaits, stage, this.clock);
  }

  batchWaitStages(): string[] {
    return [...this.batchWaits.keys()];
  }

  /** Counts dead letters by the stage that rejected them (per batch, not per event). */
  countDeadLetters(items: readonly { stage: string }[]): void {
    for (let i = 0; i < items.length; i++) {
      const s = items[i]!.stage;
      this.deadLettersByStage.set(s, (this.deadLettersByStage.get(s) ?? 0) + 1);
    }
  }

  /** Hook for windowing stages: `n` records arrived after their window closed. */
  countLate(stage: string, n = 1): void {
    this.lateRecords.set(stage, (this.lateRecords.get(stage) ?? 0) + n);
  }

  /** Hook for resilience wrappers: a breaker changed state. */
  setBreakerState(breaker: string, state: BreakerState): void {
    this.breakers.set(breaker, state);
  }

  /** Hook for the infer stage: it holds `records` while its model is unavailable (0 once it is back). */
  setWaiting(stage: string, records: number): void {
    this.waiting.set(stage, records);
  }

  /** Registers a queue whose depth is read at tick and scrape time (never per event). */
  watchQueue(stage: string, depth: () => number, capacity: number): void {
    this.queues.set(stage, { depth, capacity });
  }

  /** Records event time → `t` for finished records; runs that share a histogram bucket share one call. */
  recordEventTime(records: readonly { eventTime: number }[], t: number): void {
    recordTimesSince(this.eventTime, records, 'eventTime', t);
  }

  /** Called with each tick's snapshot; returns a function that unsubscribes. */
  onTick(listener: (p: ProgressSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the live window and reports it; call about once per second. */
  tick(
    lag: number,
    partitionLag?: Record<string, number>,
    partitionLagMs?: Record<string, number>,
  ): ProgressSnapshot {
    const now = this.clock();
    const intervalMs = now - this.lastTickAt;
    const done = this.counters.processed + this.counters.deadLetters;
    const eps = intervalMs > 0 ? ((done - this.lastProcessed) * 1000) / intervalMs : 0;
    this.lastTickAt = now;
    this.lastProcessed = done;
    this.lag = lag;
    this.partitionLag = partitionLag;
    this.partitionLagMs = partitionLagMs;
    const stages: Record<string, LatencySummary> = {};
    for (const [name, h] of this.stages) stages[name] = h.rollover();
    const batchSizes: Record<string, LatencySummary> = {};
    for (const [name, h] of this.batches) batchSizes[name] = h.rollover();
    // Folded each tick so that their exported buckets move; the progress line leaves them out.
    for (const h of this.modelCalls.values()) h.rollover();
    for (const h of this.batchWaits.values()) h.rollover();
    const snap: ProgressSnapshot = {
      elapsedMs: now - this.startedAt,
      intervalMs,
      counters: { ...this.counters },
      eps,
      lag,
      e2e: this.e2e.rollover(),
      eventTime: this.eventTime.rollover(),
      stages,
      partitionLag,
      ...(partitionLagMs ? { partitionLagMs } : {}),
      batchSizes,
      checkpoint: this.checkpointDuration.rollover(),
    };
    for (const l of this.listeners) {
      // A failing observer must not break the pipeline's ticker (it runs in a timer).
      try {
        l(snap);
      } catch (e) {
        process.emitWarning(`pipeline ${this.pipeline}: tick listener failed: ${(e as Error).message}`);
      }
    }
    return snap;
  }

  elapsedMs(): number {
    return this.clock() - this.startedAt;
  }

  /** Per-stage summaries over the whole run, in pipeline order. */
  stageSummaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [name, h] of this.stages) out[name] = h.summary();
    return out;
  }
}

function histogramOf(map: Map<string, WindowedHistogram>, key: string, clock: Clock): WindowedHistogram {
  let h = map.get(key);
  if (!h) {
    h = new WindowedHistogram(clock);
    map.set(key, h);
  }
  return h;
}

/** A source that can tell its lag per partition (optional; `Source.lag()` gives the total). */
export interface PartitionLagSource {
  lagByPartition(): Record<string, number>;
}

/**
 * The per-partition lag of a source that offers it, else undefined (duck-typed).
 *
 * @example
 * metrics.tick(source.lag(), partitionLagOf(source));
 */
export function partitionLagOf(source: object): Record<string, number> | undefined {
  const s = source as Partial<PartitionLagSource>;
  return typeof s.lagByPartition === 'function' ? s.lagByPartition() : undefined;
}

/** A source that can tell how far behind the newest record it is per partition, in ms (Kinesis). */
export interface PartitionLagMsSource {
  lagMsByPartition(): Record<string, number>;
}

/**
 * The per-partition lag in ms of a source that offers it, else undefined (duck-typed).
 *
 * @example
 * metrics.tick(source.lag(), partitionLagOf(source), partitionLagMsOf(source));
 */
export function partitionLagMsOf(source: object): Record<string, number> | undefined {
  const s = source as Partial<PartitionLagMsSource>;
  return typeof s.lagMsByPartition === 'function' ? s.lagMsByPartition() : undefined;
}

/**
 * Records `t` minus each record's `field` time (ms) in `hist`; consecutive records whose
 * durations share a histogram bucket (same append time, event times close together) share one
 * histogram call, with the same counts, min and max as one call each.
 */
export function recordTimesSince<F extends 'eventTime' | 'appendTime'>(
  hist: WindowedHistogram,
  records: readonly Record<F, number>[],
  field: F,
  t: number,
): void {
  // Each record's time through a getter that reads a named property: `record[field]`, a load by
  // a variable name, was a keyed megamorphic lookup per record (most of this function's time).
  const timeOf = (field === 'appendTime' ? appendTimeOf : eventTimeOf) as (r: Record<F, number>) => number;
  timesSince(hist, records, timeOf, t);
}

const appendTimeOf = (r: { appendTime: number }): number => r.appendTime;
const eventTimeOf = (r: { eventTime: number }): number => r.eventTime;

function timesSince<R>(
  hist: WindowedHistogram,
  records: readonly R[],
  timeOf: (r: R) => number,
  t: number,
): void {
  // Runs of records whose durations fall in one bucket are one call (records read together
  // share their append time; event times a few ms apart share a bucket once the lag is large).
  let key = -1;
  let minUs = 0;
  let maxUs = 0;
  let run = 0;
  for (let i = 0; i < records.length; i++) {
    const us = recordedMicros(t - timeOf(records[i]!));
    const k = bucketKey(us);
    if (k === key) {
      run++;
      if (us < minUs) minUs = us;
      else if (us > maxUs) maxUs = us;
      continue;
    }
    if (run > 0) hist.recordBucketRun(minUs, maxUs, run);
    key = k;
    minUs = maxUs = us;
    run = 1;
  }
  if (run > 0) hist.recordBucketRun(minUs, maxUs, run);
}
