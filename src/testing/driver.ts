// A test driver for pipelines, after Kafka Streams' TopologyTestDriver: the test feeds records
// with their event times and keys, moves the watermark and the processing-time clock itself,
// and reads what came out (outputs, dead letters, late records, actions). Every step waits
// until the pipeline has settled, so no test sleeps; a restart rebuilds the pipeline from the
// same checkpoint store, so tests can show that state survives.

import type { ActionEntry } from '../actions/index.js';
import {
  MemoryCheckpointStore,
  MemoryDeadLetters,
  type CheckpointStore,
  type DeadLetter,
  type PipelineRun,
  type RecordKey,
  type RunOptions,
  type RunSummary,
  type Sink,
} from '../stream/index.js';
import { DriverSource, type InputRecord } from './driver-source.js';
import { modelsDown } from './fake-model.js';
import { RecordingActions } from './recording-actions.js';

/**
 * How a test driver runs its pipeline.
 *
 * @example
 * await testDriver(build, { partitions: 2, checkpointIntervalMs: 5000, checkpoints: new MemoryCheckpointStore() });
 */
export interface TestDriverOptions {
  /** The input's topic name (record ids and idempotency keys carry it); default "input". */
  topic?: string;
  /** Input partitions declared at start (watermarks wait for each); default 1. */
  partitions?: number;
  /** Checkpoint period on the driver's clock (`advanceTime`); default 1000 ms. */
  checkpointIntervalMs?: number;
  /** Records per batch; default 1024. */
  batchSize?: number;
  /** Where checkpoints go; default a new `MemoryCheckpointStore`. */
  checkpoints?: CheckpointStore;
  /** How long (real ms) a step may take to settle before the driver gives up; default 10 000. */
  settleTimeoutMs?: number;
}

/**
 * What the driver hands the pipeline it builds: its input, output and action target.
 *
 * @example
 * (t: DriverWiring<Tx, Alert>) => pipeline('p').from(t.input).map(toAlert).to(t.output)
 */
export interface DriverWiring<In, Out> {
  /** The source the test feeds (`send`, `sendAll`). */
  input: DriverSource<In>;
  /** A sink that collects into `driver.outputs`. */
  output: Sink<Out>;
  /** An action target (`action({ ..., to: t.actions })`) that records into `driver.actions`. */
  actions: RecordingActions;
}

/**
 * A built pipeline, as `.to(sink)` returns it.
 *
 * @example
 * const built: Runnable = pipeline('p').from(t.input).to(t.output);
 */
export interface Runnable {
  run(opts: RunOptions): PipelineRun;
}

/**
 * One output record: its value, key and event time.
 *
 * @example
 * driver.outputRecords[0]; // { value: { key: 'a', start, end, n: 2 }, key: 'a', eventTime: end - 1 }
 */
export interface OutputRecord<Out> {
  value: Out;
  key: RecordKey | undefined;
  eventTime: number;
}

/**
 * Builds the pipeline with the driver's input and output, starts it, and waits until it is ready.
 * `build` runs again on each `restart()`.
 *
 * @example
 * const driver = await testDriver<number, number>((t) => pipeline('double').from(t.input).map((n) => n * 2).to(t.output));
 * await driver.sendAll([1, 2, 3]);
 * driver.outputs; // [2, 4, 6]
 * await driver.close();
 */
export async function testDriver<In, Out = unknown>(
  build: (t: DriverWiring<In, Out>) => Runnable,
  opts: TestDriverOptions = {},
): Promise<PipelineTestDriver<In, Out>> {
  const driver = new PipelineTestDriver<In, Out>(build, opts);
  await driver.settle();
  return driver;
}

/**
 * A running pipeline under test (made by {@link testDriver}): steps that feed it and move its
 * time, and what it produced.
 *
 * @example
 * const driver = await testDriver<Tx, Alert>(build);
 * await driver.send(tx, { eventTime: 1000 });
 * await driver.advanceWatermark(60_000);
 * driver.outputs; driver.deadLetters; driver.lateRecords; driver.actions;
 */
export class PipelineTestDriver<In, Out> {
  /** The checkpoint store every run of this driver uses. */
  readonly checkpoints: CheckpointStore;
  /** Every output, in order, across restarts (a replay after a crash shows here twice). */
  readonly outputRecords: OutputRecord<Out>[] = [];
  /** The action target the pipeline was given (`t.actions`). */
  readonly actionTarget = new RecordingActions();
  /** Restarts so far. */
  restarts = 0;
  private readonly source: DriverSource<In>;
  private readonly dead = new MemoryDeadLetters(Infinity);
  private readonly late = new MemoryDeadLetters(Infinity);
  private readonly output: Sink<Out>;
  private current!: PipelineRun;
  private failure: { error: unknown } | undefined;
  private now = 0;
  private eventNow = 0;
  private outputsRead = 0;
  private saving = 0;

  constructor(
    private readonly build: (t: DriverWiring<In, Out>) => Runnable,
    private readonly opts: TestDriverOptions = {},
  ) {
    this.source = new DriverSource<In>(opts.topic ?? 'input', opts.partitions ?? 1);
    this.checkpoints = this.counting(opts.checkpoints ?? new MemoryCheckpointStore());
    const outputs = this.outputRecords;
    this.output = {
      name: 'test-driver-output',
      write(records) {
        for (const r of records) outputs.push({ value: r.value, key: r.key, eventTime: r.eventTime });
      },
    };
    this.start();
  }

  /** The current run (its `metrics.counters`, `stop()`...). */
  get run(): PipelineRun {
    return this.current;
  }

  /** Output values, in order, across restarts. */
  get outputs(): Out[] {
    return this.outputRecords.map((r) => r.value);
  }

  /** Dead letters with their stage and reason, across restarts. */
  get deadLetters(): DeadLetter[] {
    return this.dead.items;
  }

  /** Records that came after their windows closed, with the reason, across restarts. */
  get lateRecords(): DeadLetter[] {
    return this.late.items;
  }

  /** Actions that took effect (idempotency key, action, payload, record key, event time). */
  get actions(): ActionEntry[] {
    return this.actionTarget.delivered;
  }

  /** The processing-time clock (ms since the driver started; moved only by `advanceTime`). */
  get time(): number {
    return this.now;
  }

  /**
   * Outputs since the last call (or since the start): read a step's results on their own.
   *
   * @example
   * await driver.send(tx); driver.readOutputs(); // what `tx` produced
   */
  readOutputs(): Out[] {
    const out = this.outputRecords.slice(this.outputsRead).map((r) => r.value);
    this.outputsRead = this.outputRecords.length;
    return out;
  }

  /**
   * Feeds one record and waits until the pipeline has processed it. `eventTime` defaults to the
   * last one given (so a test may give it once); `key` is the source key; `partition` default 0.
   *
   * @example
   * await driver.send({ card: 'c1', amount: 90 }, { eventTime: Date.parse('2026-01-01T00:00:05Z') });
   */
  send(value: In, opts: Omit<InputRecord<In>, 'value'> = {}): Promise<void> {
    return this.pipe([{ ...opts, value }]);
  }

  /**
   * Feeds records as one batch (the pipeline reads them together) and waits until processed.
   *
   * @example
   * await driver.sendAll([5, 7], { eventTime: (n) => n * 1000, key: (n) => n % 2 });
   */
  sendAll(
    values: readonly In[],
    opts: { eventTime?: (v: In, i: number) => number; key?: (v: In) => RecordKey; partition?: number } = {},
  ): Promise<void> {
    return this.pipe(
      values.map((value, i) => ({
        value,
        eventTime: opts.eventTime?.(value, i),
        key: opts.key?.(value),
        partition: opts.partition,
      })),
    );
  }

  /**
   * Feeds records, each with its own event time, key and partition, and waits until processed.
   *
   * @example
   * await driver.pipe([{ value: a, eventTime: 1000, partition: 0 }, { value: b, eventTime: 900, partition: 1 }]);
   */
  async pipe(records: readonly InputRecord<In>[]): Promise<void> {
    for (const r of records) if (r.eventTime !== undefined) this.eventNow = r.eventTime;
    this.source.feed(records, this.eventNow);
    await this.settle();
  }

  /**
   * Declares event time complete up to `t` (epoch ms) and waits: windows ending at or before it
   * (plus their allowed lateness) close and emit, and later records behind it are late.
   *
   * @example
   * await driver.advanceWatermark(Date.parse('2026-01-01T00:01:00Z')); // the first minute's windows close
   */
  async advanceWatermark(t: number): Promise<void> {
    this.source.advanceWatermark(t);
    await this.settle();
  }

  /**
   * Moves the processing-time clock by `ms` and waits: a checkpoint falls due once the clock
   * has moved `checkpointIntervalMs` since the last one (and records were read since).
   *
   * @example
   * await driver.advanceTime(1000); // a checkpoint of what was read so far
   */
  async advanceTime(ms: number): Promise<void> {
    this.now += ms;
    this.source.nudge();
    await this.settle();
  }

  /**
   * Takes a checkpoint now (moves the clock by the checkpoint interval) and waits until it is saved.
   *
   * @example
   * await driver.checkpoint(); await driver.send(x); await driver.restart({ crash: true }); // x is read again
   */
  checkpoint(): Promise<void> {
    return this.advanceTime(this.opts.checkpointIntervalMs ?? 1000);
  }

  /**
   * Ends the run and starts the pipeline again (`build` runs again) from the same checkpoint
   * store. By default the run stops cleanly (a final checkpoint); `crash: true` ends it
   * without one, so records after the last checkpoint are read again (outputs repeat; actions
   * dedupe on their idempotency keys).
   *
   * @example
   * await driver.restart(); // state restored from the checkpoint: counts go on where they were
   */
  async restart(opts: { crash?: boolean } = {}): Promise<void> {
    await this.settle();
    if (opts.crash) {
      this.source.crash = new Error('test driver: simulated crash');
      this.source.nudge();
      // A batch held for a model that is down blocks the source's loop: the stop signal lets it
      // go, unfinished, and no checkpoint passes it (as after a crash).
      if (this.held()) void this.current.stop();
      await this.current.done.catch(() => {});
    } else await this.stopRun();
    this.failure = undefined;
    this.restarts++;
    this.start();
    await this.settle();
  }

  /**
   * Waits until the pipeline has processed everything fed so far, or until a stage holds a
   * batch for a fake model that is down (`model.outage()`). Throws the run's error if it failed.
   *
   * @example
   * model.recover(); await driver.settle(); // the held batch went through
   */
  async settle(): Promise<void> {
    const limit = this.opts.settleTimeoutMs ?? 10_000;
    const deadline = Date.now() + limit;
    // Two polls that found nothing: the second began after everything before this call was read.
    const polls = this.source.idlePolls + 2;
    for (;;) {
      if (this.failure) throw this.failure.error;
      const read = this.source.pending() === 0 && this.source.idlePolls >= polls && this.saving === 0;
      if (read && (this.current.inFlight === 0 || this.held())) return;
      if (Date.now() > deadline)
        throw new Error(
          `test driver: the pipeline did not settle within ${limit} ms (${this.current.inFlight} batches in flight); ` +
            'a stage may wait on something the driver does not control (a real model, a timer)',
        );
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * Stops the pipeline (a final checkpoint) and returns its summary.
   *
   * @example
   * const summary = await driver.close(); summary.counters.processed;
   */
  async close(): Promise<RunSummary> {
    await this.settle().catch(() => {});
    return this.stopRun();
  }

  /** Stops the run, waking the source's poll so the stop does not wait on its timer. */
  private stopRun(): Promise<RunSummary> {
    const done = this.current.stop();
    this.source.nudge();
    return done;
  }

  /** A stage holds records for a fake model that is down: nothing moves until it recovers. */
  private held(): boolean {
    if (modelsDown.size === 0) return false;
    for (const n of this.current.metrics.waiting.values()) if (n > 0) return true;
    return false;
  }

  private start(): void {
    const pipeline = this.build({ input: this.source, output: this.output, actions: this.actionTarget });
    this.current = pipeline.run({
      checkpoints: this.checkpoints,
      checkpointIntervalMs: this.opts.checkpointIntervalMs,
      batchSize: this.opts.batchSize,
      deadLetters: this.dead,
      lateRecords: this.late,
      clock: () => this.now,
    });
    const run = this.current;
    run.done.catch((error: unknown) => {
      if (this.current === run && !this.source.crash) this.failure = { error };
    });
  }

  /** The store, counting saves in progress: a step waits for them (a restart must see them). */
  private counting(store: CheckpointStore): CheckpointStore {
    return {
      load: (p) => store.load(p),
      reader: (p) => store.reader(p),
      save: async (meta, changes) => {
        this.saving++;
        try {
          return await store.save(meta, changes);
        } finally {
          this.saving--;
        }
      },
    };
  }
}
