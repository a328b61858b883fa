// One worker of a scaled-out pipeline. It runs the app in two halves, each a normal pipeline
// run: the front half reads the input topic as a member of the app's consumer group and writes
// keyed records to the repartition topic; the back half is a member of a second group over the
// repartition topic, owns the state of the partitions it is given, and runs the stateful stages
// and the sink. On every new assignment the back half stops (finishing what is in flight and
// saving a checkpoint), restores the partitions it gained from their changelogs, and starts
// again from the offsets saved with that state. An app without state runs as the front half
// alone, with its own sink.

import { join } from 'node:path';
import type { Consumer, Producer } from '@platformatic/kafka';
import { clientSecurity, type KafkaSecurity } from '../../kafka-client/index.js';
import type {
  LatencySummary,
  Observer,
  PipelineCounters,
  PipelineMetrics,
  ProgressSnapshot,
} from '../../observe/index.js';
import {
  RunnablePipeline,
  type CheckpointStore,
  type PipelineRun,
  type RunSummary,
} from '../../stream/index.js';
import { kafkaDeadLetters } from '../kafka-dead-letters.js';
import { loadKafkaClient } from '../../kafka-client/index.js';
import { checkCompression, type CompressionCodec } from '../../log/index.js';
import { joinConsumerGroup } from '../group-member.js';
import { kafkaSource } from '../kafka-source.js';
import { planApp, type AppPlan, type ScaledApp, type ScaleContext } from './app.js';
import { ChangelogCheckpointStore, type RestoreProgress } from './changelog-store.js';
import { PartitionFetcher } from '../partition-fetcher.js';
import { LocalStateDb } from './partition-state.js';
import { repartitionSink, repartitionSource } from './repartition.js';
import { ensureTopics, scaleTopics, type ScaleTopics } from './topics.js';

export type WorkerEvent =
  | { event: 'started'; member: string; input_partitions: number; topics: ScaleTopics }
  | { event: 'assigned'; member: string; generation: number; partitions: number[]; revoked: number[] }
  | ({ event: 'restore'; member: string } & RestoreProgress)
  | {
      event: 'progress';
      member: string;
      half: 'front' | 'back';
      processed: number;
      dead_letters: number;
      actions: number;
      eps: number;
      lag: number;
    }
  | {
      event: 'stopped';
      member: string;
      front: PipelineCounters;
      back: PipelineCounters | undefined;
      /**
       * End-to-end latency (ms, HdrHistogram) of the front half's run and of the back half's runs
       * (all assignments): the same records as that worker's `sluice_e2e_latency_seconds` on /metrics.
       */
      e2e_ms: { front: LatencySummary; back: LatencySummary | undefined };
    };

export interface ScaledWorkerOptions extends KafkaSecurity {
  /** Bootstrap servers ("host:port"). */
  brokers: string[];
  /** The consumer group; also the prefix of the topics Sluice creates for the app. */
  group: string;
  /** This worker's name; default "<hostname>-<pid>". */
  member?: string;
  /** Group session timeout: how long a dead worker keeps its partitions. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Checkpoint period of both halves. Default 1000 ms. */
  checkpointIntervalMs?: number;
  /** Period of 'progress' events. Default 1000 ms. */
  progressIntervalMs?: number;
  /**
   * Codec of everything the worker produces (repartition and changelog topics, dead letters):
   * none (default), gzip, snappy, lz4 or zstd (zstd needs Node >= 22.15).
   */
  compression?: CompressionCodec;
  /**
   * Keep warm copies of the state of the partitions other workers own (tailing their
   * changelogs once a second), so a takeover reads only the changelog's tail. Costs the memory
   * of the whole state on every worker. Default false.
   */
  standby?: boolean;
  /**
   * Keep the state of owned (and standby) partitions in a local LMDB database under
   * `<dataDir>/<member>` instead of memory, so a worker's share may exceed its memory, and a
   * restarted worker reads only the changelog's tail (the changelog stays the truth). Default: in
   * memory.
   */
  dataDir?: string;
  /** Every run this worker starts (front half, back half per assignment) reports to it: live dashboard, `/metrics`, SLOs. */
  observer?: Observer;
  onEvent?: (e: WorkerEvent) => void;
}

/** The front half keeps no state: a checkpoint only commits its input offsets to the group. */
const COMMIT_ONLY: CheckpointStore = {
  load: async () => undefined,
  reader: () => ({ get: () => undefined, keys: () => [] }),
  save: async () => ({ bytes: 0 }),
};

/**
 * A worker of a scaled-out app: start as many as there are cores (or machines) with the same
 * brokers and group; Kafka's group protocol spreads the partitions over them.
 *
 * @example
 * const worker = await ScaledWorker.start(app, { brokers: ['127.0.0.1:9092'], group: 'alerts' });
 * process.on('SIGTERM', () => void worker.stop());
 * await worker.done;
 */
export class ScaledWorker {
  readonly done: Promise<void>;
  readonly member: string;
  private stopping = false;
  private wake: () => void = () => {};
  private assignment: { generation: number; partitions: number[] } | undefined;
  private front: PipelineRun | undefined;
  private back: PipelineRun | undefined;
  private backTotals: PipelineCounters | undefined;
  /** The last back-half run's metrics: the next run's carry on from them. */
  private backMetrics: PipelineMetrics | undefined;
  private backE2e: LatencySummary | undefined;

  private constructor(
    private readonly app: ScaledApp,
    private readonly opts: ScaledWorkerOptions,
    private readonly plan: AppPlan,
    private readonly topics: ScaleTopics,
    private readonly partitions: number,
    private readonly producer: Producer,
  ) {
    this.member = opts.member ?? 'worker';
    this.done = this.execute();
    this.done.catch(() => {});
  }

  static async start(app: ScaledApp, opts: ScaledWorkerOptions): Promise<ScaledWorker> {
    const member = opts.member ?? `${(await import('node:os')).hostname()}-${process.pid}`;
    const ctx: ScaleContext = { brokers: opts.brokers, group: opts.group, member };
    const plan = planApp(app, ctx);
    const kafka = await loadKafkaClient();
    const base = {
      clientId: `sluice-${member}`,
      bootstrapBrokers: opts.brokers,
      ...clientSecurity(opts),
    };
    const topics = scaleTopics(opts.group);
    const partitions = await ensureTopics(kafka, base, app.input, topics, !!plan.back);
    const compression = checkCompression(opts.compression ?? 'none');
    const producer = new kafka.Producer({ ...base, acks: -1, compression });
    const worker = new ScaledWorker(app, { ...opts, member }, plan, topics, partitions, producer);
    opts.onEvent?.({ event: 'started', member, input_partitions: partitions, topics });
    return worker;
  }

  /** Finishes what is in flight, saves final checkpoints, leaves both groups. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    void this.front?.stop();
    void this.back?.stop();
    await this.done;
  }

  private ctx(): ScaleContext {
    return { brokers: this.opts.brokers, group: this.opts.group, member: this.member };
  }

  private async execute(): Promise<void> {
    const runOpts = {
      checkpointIntervalMs: this.opts.checkpointIntervalMs ?? 1000,
      progressIntervalMs: this.opts.progressIntervalMs ?? 1000,
      deadLetters: kafkaDeadLetters(this.producer, this.topics.deadLetters),
    };
    const { front, back } = this.plan;
    const frontSink = back
      ? repartitionSink(this.producer, this.topics.repartition, this.partitions)
      : this.plan.sink;
    this.front = new RunnablePipeline(
      back ? `${this.app.name}-front` : this.app.name,
      kafkaSource({
        brokers: this.opts.brokers,
        topic: this.app.input,
        groupId: this.opts.group,
        clientId: `sluice-${this.member}`,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        sasl: this.opts.sasl,
        tls: this.opts.tls,
      }),
      front,
      frontSink,
      [],
    ).run({ ...runOpts, checkpoints: COMMIT_ONLY, onProgress: (p) => this.progress('front', p) });
    this.opts.observer?.add(this.front.metrics);
    try {
      await Promise.all([this.front.done, back ? this.runBack() : undefined]);
    } catch (err) {
      // One half failed: stop the other so the process can exit with the error.
      this.stopping = true;
      this.wake();
      await Promise.allSettled([this.front.stop(), this.back?.stop()]);
      throw err;
    } finally {
      await this.producer.close();
    }
    const frontSummary = await this.front.done;
    this.opts.onEvent?.({
      event: 'stopped',
      member: this.member,
      front: frontSummary.counters,
      back: this.backTotals,
      e2e_ms: { front: frontSummary.latencyMs.e2e, back: this.backE2e },
    });
  }

  private progress(half: 'front' | 'back', p: ProgressSnapshot): void {
    this.opts.onEvent?.({
      event: 'progress',
      member: this.member,
      half,
      processed: p.counters.processed,
      dead_letters: p.counters.deadLetters,
      actions: p.counters.actions,
      eps: Math.round(p.eps),
      lag: p.lag,
    });
  }

  /** The back half: a group member over the repartition topic, restarted on every assignment. */
  private async runBack(): Promise<void> {
    const topic = this.topics.repartition;
    // 'error' means rejoining the group failed for good: fail the worker (unless stopping).
    let failure: unknown;
    const consumer: Consumer = await joinConsumerGroup({
      brokers: this.opts.brokers,
      groupId: `${this.opts.group}-back`,
      clientId: `sluice-${this.member}`,
      topic,
      sessionTimeoutMs: this.opts.sessionTimeoutMs,
      sasl: this.opts.sasl,
      tls: this.opts.tls,
      onAssigned: (partitions, generation) => {
        this.assignment = { generation, partitions };
        this.wake();
      },
      onFailure: (err) => {
        if (this.stopping) return;
        failure ??= err;
        this.wake();
      },
    });
    // The group is rebalancing: checkpoint and stop now, before the partitions move on.
    consumer.on('consumer:group:rebalance', () => void this.back?.stop());
    const local = this.opts.dataDir ? LocalStateDb.open(join(this.opts.dataDir, this.member)) : undefined;
    const store = new ChangelogCheckpointStore({
      inputTopic: topic,
      changelogTopic: this.topics.changelog,
      partitions: this.partitions,
      producer: this.producer,
      client: consumer,
      member: this.member,
      ...(local ? { stateOf: (p: number) => local.partition(p) } : {}),
    });
    // Restores and standby refreshes read the same changelog fetchers: one at a time.
    let changelogWork: Promise<unknown> = Promise.resolve();
    const serial = <T>(fn: () => Promise<T>): Promise<T> => {
      const next = changelogWork.then(fn);
      changelogWork = next.catch(() => {});
      return next;
    };
    let mine: number[] = [];
    const standbyTimer = this.opts.standby
      ? setInterval(() => {
          const others = Array.from({ length: this.partitions }, (_, p) => p).filter(
            (p) => !mine.includes(p),
          );
          void serial(() => store.refreshStandbys(others)).catch((err: unknown) => {
            if (!this.stopping) process.emitWarning(`standby refresh failed: ${(err as Error).message}`);
          });
        }, 1000)
      : undefined;
    try {
      while (!this.stopping) {
        if (failure !== undefined) throw failure;
        const a = this.assignment;
        if (!a) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        this.assignment = undefined;
        await this.stopBack();
        const revoked = store.partitions().filter((p) => !a.partitions.includes(p));
        store.release(revoked);
        this.opts.onEvent?.({ event: 'assigned', member: this.member, ...a, revoked });
        mine = a.partitions;
        await serial(() =>
          store.restore(a.partitions, (r) =>
            this.opts.onEvent?.({ event: 'restore', member: this.member, ...r }),
          ),
        );
        if (this.assignment || this.stopping || a.partitions.length === 0) continue;
        const plan = planApp(this.app, this.ctx()); // fresh operators over the restored state
        this.back = new RunnablePipeline(
          this.app.name,
          repartitionSource(new PartitionFetcher(consumer, topic), store.offsets(), a.partitions),
          plan.back!,
          plan.sink,
          [],
        ).run({
          checkpointIntervalMs: this.opts.checkpointIntervalMs ?? 1000,
          progressIntervalMs: this.opts.progressIntervalMs ?? 1000,
          deadLetters: kafkaDeadLetters(this.producer, this.topics.deadLetters),
          checkpoints: store,
          onProgress: (p) => this.progress('back', p),
          // Progress and /metrics count this worker's back half, not this assignment alone:
          // reset at each rebalance, the workers' figures added up to less than was processed.
          carryMetricsFrom: this.backMetrics,
        });
        this.opts.observer?.add(this.back.metrics); // replaces the previous assignment's run
        const ended = this.back.done.then(() => undefined);
        await Promise.race([ended, new Promise<void>((resolve) => (this.wake = resolve))]);
      }
      await this.stopBack();
    } finally {
      clearInterval(standbyTimer);
      await changelogWork;
      await consumer.close().catch(() => {});
      await local?.close();
    }
  }

  private async stopBack(): Promise<void> {
    if (!this.back) return;
    const summary: RunSummary = await this.back.stop();
    // Totals over this worker's back-half runs (each run carries on from the one before).
    this.backTotals = summary.counters;
    this.backE2e = summary.latencyMs.e2e;
    this.backMetrics = this.back.metrics;
    this.back = undefined;
  }
}
