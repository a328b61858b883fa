import { PipelineMetrics, RecordTracer, partitionLagMsOf, partitionLagOf } from '../observe/index.js';
import { recordTimesSince, tracingConfig, wallClockMs } from '../observe/index.js';
import { BoundedQueue } from './bounded-queue.js';
import { stageDone, statefulSteps } from './stage-timing.js';
import { fuseExtractors } from './fuse.js';
import { requireOption } from './errors.js';
import type { Envelope } from './envelope.js';
import type { DeadLetterSink, Sink, Source, StageContext } from './interfaces.js';
import type { RunOptions, RunSummary } from './run-options.js';
import type { CheckpointMeta, CheckpointStore, StateChange, StateReader } from './state/store.js';
import { MemoryDeadLetters } from './memory.js';
import type { AsyncStep, Barrier, Batch, SideInput, Step, SyncStep } from './steps.js';

export type { RunOptions, RunSummary } from './run-options.js';

interface Unit {
  head: AsyncStep | undefined;
  syncs: SyncStep[];
}

const END = Symbol('end');
const EMPTY_STATE: StateReader = { get: () => undefined, keys: () => [] };
type Item = Batch | typeof END;

/**
 * A running pipeline. Stages run as a chain of loops joined by bounded queues: consecutive
 * synchronous stages are fused into one loop; each async stage (model, sink) gets its own, so
 * they overlap. Checkpoints travel as barriers on batches and are saved once their batch has
 * passed the last stage, so saved state never runs ahead of completed actions.
 */
export class PipelineRun {
  readonly metrics: PipelineMetrics;
  readonly done: Promise<RunSummary>;
  /** The dead letters, when no dead-letter sink was given. */
  readonly deadLetters: MemoryDeadLetters | undefined;
  /** The late records, when no late-record sink was given. */
  readonly lateRecords: MemoryDeadLetters | undefined;
  private readonly lateSink: DeadLetterSink;
  private stopping = false;
  /** @internal Batches read but not yet past the last stage (a test driver waits for 0). */
  inFlight = 0;
  /** Fires on `stop()`: a stage waiting for a model that is down gives up its batch. */
  private readonly stopSignal = new AbortController();
  /** The last unit that left a batch unfinished at a stop (0: none); it and those before it drop the rest. */
  private unfinishedUnit = 0;
  private checkpointsSaved = 0;
  /** The checkpoint being saved (resolved when none is). */
  private saving: Promise<void> = Promise.resolve();
  private restoredDone = 0;
  private restoredActions = { done: 0, duplicates: 0 };
  private readonly ctx: StageContext;
  private readonly dlq: DeadLetterSink;
  private readonly sinkStep: AsyncStep;
  /** Set while sampled records are traced (`tracing` option or `OTEL_*` variables). */
  private tracer: RecordTracer | undefined;

  constructor(
    readonly name: string,
    private readonly source: Source<unknown>,
    private readonly steps: readonly Step[],
    private readonly sink: Sink<unknown>,
    private readonly opts: RunOptions,
  ) {
    const batchSize = opts.batchSize ?? 1024;
    requireOption(
      Number.isInteger(batchSize) && batchSize > 0,
      `batchSize must be a positive integer, got ${batchSize}`,
    );
    requireOption((opts.queueCapacity ?? 4) >= 1, `queueCapacity must be >= 1, got ${opts.queueCapacity}`);
    requireOption(
      (opts.checkpointIntervalMs ?? 1000) > 0,
      `checkpointIntervalMs must be > 0, got ${opts.checkpointIntervalMs}`,
    );
    this.metrics = new PipelineMetrics(name);
    if (opts.carryMetricsFrom) this.metrics.carryOver(opts.carryMetricsFrom);
    this.ctx = { pipeline: name, stopping: this.stopSignal.signal, metrics: this.metrics };
    this.deadLetters = opts.deadLetters ? undefined : new MemoryDeadLetters();
    this.dlq = opts.deadLetters ?? this.deadLetters!;
    this.lateRecords = opts.lateRecords ? undefined : new MemoryDeadLetters();
    this.lateSink = opts.lateRecords ?? this.lateRecords!;
    this.sinkStep = {
      kind: 'async',
      name: `sink:${sink.name}`,
      open: sink.open ? (c) => sink.open!(c) : undefined,
      process: async (batch, c) => {
        if (batch.records.length > 0) await sink.write(batch.records, c);
      },
      flush: sink.flush ? () => sink.flush!() : undefined,
      close: sink.close ? () => sink.close!() : undefined,
    };
    // Register stages in order so summaries list them as they run.
    for (const s of steps) this.metrics.stage(s.name);
    this.metrics.stage(this.sinkStep.name);
    this.done = this.execute();
    this.done.catch(() => {}); // the caller awaits `done`; avoid an unhandled rejection before it does
  }

  /**
   * Stops reading, finishes what is in flight, saves a final checkpoint, and resolves `done`. A
   * batch held by an infer stage waiting for a model that is down is given up (read again on resume).
   */
  stop(): Promise<RunSummary> {
    this.stopping = true;
    this.stopSignal.abort();
    return this.done;
  }

  private async execute(): Promise<RunSummary> {
    const { checkpoints } = this.opts;
    const tracing = tracingConfig(this.opts.tracing);
    if (tracing) this.tracer = await RecordTracer.start(this.name, tracing);
    const stateful = statefulSteps(this.steps);
    const cp = checkpoints ? await checkpoints.load(this.name) : undefined;
    const reader = checkpoints ? checkpoints.reader(this.name) : EMPTY_STATE;
    for (const s of stateful) s.stateful!.attach(reader, s.name, !!checkpoints);
    if (cp) Object.assign(this.metrics.counters, cp.counters);
    if (cp || this.opts.carryMetricsFrom) {
      const c = this.metrics.counters;
      this.restoredDone = c.processed + c.deadLetters;
      this.restoredActions = { done: c.actions, duplicates: c.duplicateActions };
    }
    await this.source.open({ pipeline: this.name, startOffsets: cp?.offsets });
    const sides = this.steps.flatMap((s) => (s.kind === 'sync' ? (s.sides ?? []) : []));
    for (const side of sides) await side.source.open({ pipeline: this.name, startOffsets: cp?.offsets });
    let partitions = this.source.partitions?.() ?? Object.keys(this.source.positions());
    for (const s of stateful) {
      s.stateful!.inputs?.(partitions);
      // A window's results carry its name as their topic, one partition: the stages after it
      // see only that, and waiting for the source's partitions would hold their watermark back
      // for good once the source goes quiet (a window after a window never closing).
      if (s.consumes === true) partitions = [`${s.name}/0`];
    }
    // Tables are read to their end before the stream starts, so first events see every row.
    for (const side of sides) {
      let more = true;
      while (more) more = await this.pollSide(side);
    }
    const asyncSteps = [...this.steps.filter((s): s is AsyncStep => s.kind === 'async'), this.sinkStep];
    for (const s of asyncSteps) await s.open?.(this.ctx);

    const units: Unit[] = [{ head: undefined, syncs: [] }];
    for (const s of fuseExtractors([...this.steps, this.sinkStep])) {
      if (s.kind === 'async') units.push({ head: s, syncs: [] });
      else units[units.length - 1]!.syncs.push(s);
    }
    const capacity = this.opts.queueCapacity ?? 4;
    const queues = units.slice(1).map(() => new BoundedQueue<Item>(capacity));

    queues.forEach((q, k) => this.metrics.watchQueue(units[k + 1]!.head!.name, () => q.size, capacity));
    // Always tick: observers (dashboard, SLO rules, /metrics windows) read per-interval figures.
    const ticker = setInterval(() => {
      const s = this.source;
      const progress = this.metrics.tick(s.lag(), partitionLagOf(s), partitionLagMsOf(s));
      this.opts.onProgress?.(progress);
    }, this.opts.progressIntervalMs ?? 1000);
    ticker.unref();
    let nextBarrierId = (cp?.id ?? 0) + 1;
    try {
      const loops = [this.sourceLoop(units[0]!, queues[0]!, () => nextBarrierId++, sides)];
      for (let k = 1; k < units.length; k++)
        loops.push(this.unitLoop(k, units[k]!, queues[k - 1]!, queues[k]));
      await Promise.all(loops);
      await this.saving;
    } finally {
      await this.saving.catch(() => {});
      clearInterval(ticker);
      for (const s of asyncSteps) await s.close?.();
      await this.dlq.close?.();
      await this.lateSink.close?.();
      await this.source.close();
      for (const side of sides) await side.source.close();
      await this.tracer?.flush().catch(() => {}); // a trace collector that is down must not fail a run
    }
    return this.summary(!!cp);
  }

  private runSyncs(unit: Unit, batch: Batch): void {
    for (const step of unit.syncs) {
      // A stage that is not passive may build or mix envelopes: it says so if they still share.
      if (step.passive !== true) batch.sharedStamps = false;
      step.process(batch);
      stageDone(this.metrics.stage(step.name), batch, step.name, this.tracer);
      if (batch.barrier && step.stateful) {
        for (const c of step.stateful.drainChanges(batch.barrier.id)) batch.barrier.changes.push(c);
      }
    }
  }

  /**
   * How the source takes back its envelopes, where that is safe: the first stage that is not
   * passive (reads and sets fields, keeps nothing) consumes the batch (replaces its records,
   * keeps none of them), and runs in the source's own loop, so no other batch or stage can hold
   * them. Otherwise undefined: user functions that see envelopes (map, filter, withState) may
   * keep them, and so may async stages and sinks.
   */
  private recycler(unit: Unit): ((records: Envelope[]) => void) | undefined {
    const source = this.source;
    if (source.recycle === undefined) return undefined;
    const first = unit.syncs.find((s) => !s.passive);
    if (first?.consumes !== true) return undefined;
    return (records) => source.recycle!(records);
  }

  /** Polls a side input if it has records waiting; resolves true when it applied some. */
  private async pollSide(side: SideInput): Promise<boolean> {
    if (side.source.lag() <= 0) return false;
    const recs = await side.source.poll(this.opts.batchSize ?? 1024);
    if (!recs || recs.length === 0) return false;
    side.apply(recs);
    return true;
  }

  /** Offsets of the stream and of every side input: what a checkpoint resumes from. */
  private positions(sides: SideInput[]): Record<string, number> {
    const all = [this.source.positions(), ...sides.map((s) => s.source.positions())];
    return Object.assign({}, ...all) as Record<string, number>;
  }

  private async sourceLoop(
    unit: Unit,
    out: BoundedQueue<Item>,
    nextId: () => number,
    sides: SideInput[],
  ): Promise<void> {
    const batchSize = this.opts.batchSize ?? 1024;
    const interval = this.opts.checkpointIntervalMs ?? 1000;
    const barriers = !!this.opts.checkpoints;
    const clock = this.opts.clock ?? (() => performance.now());
    let lastBarrierAt = clock();
    let watermark = -Infinity;
    let lastYieldAt = performance.now();
    let ended = false;
    let readSinceBarrier = false;
    const recycle = this.recycler(unit);
    while (!this.stopping) {
      for (const side of sides) await this.pollSide(side);
      const records = await this.source.poll(batchSize);
      if (records === null) {
        ended = true;
        break;
      }
      const now = clock();
      const due = barriers && now - lastBarrierAt >= interval;
      // A source that declares event time complete up to a point: windows close up to it.
      const wm = this.source.watermark?.() ?? watermark;
      // Idle: nothing to process, but what was read since the last barrier still needs a
      // checkpoint, or a quiet stream would keep its last records uncommitted until stopped.
      if (records.length === 0 && !(due && readSinceBarrier) && wm <= watermark) continue;
      this.metrics.counters.in += records.length;
      const batch: Batch = {
        records,
        deadLetters: [],
        size: records.length,
        sharedStamps: this.source.sharesStamps === true,
      };
      if (wm > watermark) batch.watermark = watermark = wm;
      readSinceBarrier ||= records.length > 0;
      if (this.tracer !== undefined) batch.traces = this.tracer.sample(records);
      if (due) {
        batch.barrier = { id: nextId(), offsets: this.positions(sides), changes: [] };
        lastBarrierAt = now;
        readSinceBarrier = false;
      }
      this.runSyncs(unit, batch);
      // The consuming stage replaced the records: the source's envelopes are free for reuse.
      if (recycle !== undefined && records.length > 0 && batch.records !== records) recycle(records);
      this.inFlight++;
      await out.put(batch);
      // A fast source and fused sync stages can run on microtasks alone; let timers and I/O in.
      if (performance.now() - lastYieldAt > 10) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYieldAt = performance.now();
      }
    }
    // A last barrier so that a finished or stopped run resumes exactly where it ended.
    const final: Batch = { records: [], deadLetters: [], size: 0, endOfInput: ended };
    if (barriers) final.barrier = { id: nextId(), offsets: this.positions(sides), changes: [] };
    this.runSyncs(unit, final);
    this.inFlight++;
    await out.put(final);
    await out.put(END);
  }

  private async unitLoop(
    k: number,
    unit: Unit,
    input: BoundedQueue<Item>,
    out: BoundedQueue<Item> | undefined,
  ): Promise<void> {
    const head = unit.head!;
    for (;;) {
      const item = await input.take();
      if (item === END) {
        if (out) await out.put(END);
        return;
      }
      // Batches behind one left unfinished (and their barriers) are dropped: a checkpoint from
      // them would skip its records. Those already past it finish as usual.
      if (k <= this.unfinishedUnit) continue;
      if (item.records.length > 0) {
        this.metrics.batchSize(head.name).record(item.records.length);
        // Since the previous stage stamped the batch: its wait in this queue (one call per batch).
        const stamps = item.records[0]!.stamps;
        this.metrics
          .batchWait(head.name)
          .recordMany(wallClockMs() - stamps[stamps.length - 1]!, item.records.length);
      }
      // The sink only reads the records; any other async stage may replace them.
      if (head !== this.sinkStep) item.sharedStamps = false;
      const callStart = item.traces === undefined ? undefined : wallClockMs();
      await head.process(item, this.ctx);
      if (item.unfinished === true) {
        this.unfinishedUnit = Math.max(this.unfinishedUnit, k);
        continue;
      }
      stageDone(this.metrics.stage(head.name), item, head.name, this.tracer, callStart);
      this.runSyncs(unit, item);
      if (out) await out.put(item);
      else await this.complete(item).then(() => this.inFlight--);
    }
  }

  /** After the last stage: dead letters, counters, end-to-end latency, and a due checkpoint. */
  private async complete(batch: Batch): Promise<void> {
    const c = this.metrics.counters;
    if (batch.deadLetters.length > 0) await this.dlq.write(batch.deadLetters);
    this.metrics.countDeadLetters(batch.deadLetters);
    if (batch.late && batch.late.length > 0) {
      await this.lateSink.write(batch.late);
      c.late += batch.late.length;
      for (const l of batch.late) this.metrics.countLate(l.stage);
    }
    c.deadLetters += batch.deadLetters.length;
    c.processed += batch.size - batch.deadLetters.length;
    const stats = this.sink.stats?.();
    if (stats) {
      c.actions = this.restoredActions.done + stats.done;
      c.duplicateActions = this.restoredActions.duplicates + stats.duplicates;
    }
    const t = wallClockMs();
    if (batch.traces !== undefined) this.tracer!.end(batch.traces, t);
    recordTimesSince(this.metrics.e2e, batch.records, 'appendTime', t);
    this.metrics.recordEventTime(batch.records, t);
    if (batch.barrier) await this.checkpoint(batch.barrier);
  }

  /**
   * Makes what the sinks wrote durable, then saves the checkpoint in the background: the store's
   * write (and fsync) would otherwise hold up the batches behind it, which is most of the p99 at
   * a steady load. Saves stay in order, one at a time; a failed save fails the run.
   */
  private async checkpoint(barrier: Barrier): Promise<void> {
    const store = this.opts.checkpoints;
    if (!store) return;
    await this.sinkStep.flush?.();
    for (const s of this.steps) if (s.kind === 'async') await s.flush?.();
    await this.dlq.flush?.();
    await this.lateSink.flush?.();
    await this.saving; // the previous save first (throws if it failed)
    const meta: CheckpointMeta = {
      pipeline: this.name,
      id: barrier.id,
      offsets: barrier.offsets,
      counters: { ...this.metrics.counters },
      savedAt: Date.now(),
    };
    this.saving = this.save(store, meta, barrier.changes);
    this.saving.catch(() => {}); // awaited at the next checkpoint or at the end of the run
  }

  private async save(store: CheckpointStore, meta: CheckpointMeta, changes: StateChange[]): Promise<void> {
    const started = performance.now();
    const { bytes } = await store.save(meta, changes);
    this.metrics.recordCheckpoint(performance.now() - started, bytes);
    this.checkpointsSaved++;
    for (const s of this.steps) if (s.kind === 'sync') s.stateful?.committed?.(meta.id);
    await this.source.commit?.(meta.offsets);
  }

  private summary(resumed: boolean): RunSummary {
    const elapsedMs = this.metrics.elapsedMs();
    const c = this.metrics.counters;
    const doneNow = c.processed + c.deadLetters - this.restoredDone;
    return {
      pipeline: this.name,
      counters: { ...c },
      elapsedMs,
      throughputEps: elapsedMs > 0 ? (doneNow * 1000) / elapsedMs : 0,
      latencyMs: { e2e: this.metrics.e2e.summary(), stages: this.metrics.stageSummaries() },
      checkpoints: this.checkpointsSaved,
      stopped: this.stopping,
      resumed,
    };
  }
}
