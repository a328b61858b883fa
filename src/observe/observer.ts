import type { LatencySummary } from './histogram.js';
import type {
  BreakerState,
  PipelineCounters,
  PipelineMetrics,
  ProgressSnapshot,
} from './pipeline-metrics.js';
import { PrometheusExporter, type PrometheusOptions } from './prometheus.js';
import { RecentItems } from './recent-items.js';
import { SloMonitor, type SloStatus } from './slo-monitor.js';
import type { AlertSink, SloRule } from './slo-rules.js';

/** One aggregated view of a pipeline, built once per tick (what `/events` pushes). */
export interface DashboardSnapshot {
  pipeline: string;
  /** Epoch ms. */
  at: number;
  elapsedMs: number;
  intervalMs: number;
  /** Records finished per second over the last interval. */
  eps: number;
  counters: PipelineCounters;
  lag: number;
  partitionLag: Record<string, number> | null;
  /** Latencies of the last interval, ms. */
  e2e: LatencySummary;
  eventTime: LatencySummary;
  stages: Record<string, LatencySummary>;
  /** Records per batch entering each async stage, last interval. */
  batchSizes: Record<string, LatencySummary>;
  checkpoint: { interval: LatencySummary; lastBytes: number; totalBytes: number };
  deadLetters: Record<string, number>;
  lateRecords: Record<string, number>;
  breakers: Record<string, BreakerState>;
  queues: Record<string, { depth: number; capacity: number }>;
  memory: { rss: number; heapUsed: number; heapTotal: number };
  slo: SloStatus[];
  /** Latest actions (newest first) and how many were recorded. */
  actions: { total: number; latest: unknown[] };
}

export interface ObserverOptions extends PrometheusOptions {
  slo?: readonly SloRule[];
  /** Receives SLO alerts ({ rule, pipeline, state, value, at }). */
  onAlert?: AlertSink;
  /** Alert log lines; default stderr; null for none. */
  log?: ((line: string) => void) | null;
  /** Latest actions kept per pipeline for the dashboard; default 50. */
  recentActions?: number;
  /** SLO evaluation period in ms; default 1000; 0 = only when `evaluate()` is called. */
  evaluateEveryMs?: number;
  /** Epoch-ms clock for snapshots and SLO evaluation (tests use a fake one). */
  clock?: () => number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
function rounded(s: LatencySummary): LatencySummary {
  return {
    count: s.count,
    ...{ p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), p999: round(s.p999) },
    ...{ max: round(s.max), mean: round(s.mean) },
  };
}
const roundedAll = (r: Record<string, LatencySummary>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, rounded(v)]));

/**
 * Watches pipelines: builds one aggregated snapshot per pipeline and tick, evaluates SLO
 * rules about once per second, keeps the latest actions, and owns the Prometheus exporter.
 * The dashboard server reads from it; nothing here runs per event.
 *
 * @example
 * const obs = new Observer({ slo: [{ name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 100 }], onAlert: (a) => notify(a) });
 * obs.add(run.metrics);
 * obs.subscribe((snap) => console.log(snap.eps));
 */
export class Observer {
  readonly prometheus: PrometheusExporter;
  readonly slo: SloMonitor;
  private readonly pipelines = new Map<string, { metrics: PipelineMetrics; off: () => void }>();
  private readonly actions = new Map<string, RecentItems<unknown>>();
  private readonly last = new Map<string, DashboardSnapshot>();
  private readonly listeners = new Set<(s: DashboardSnapshot) => void>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly opts: ObserverOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.slo = new SloMonitor({ rules: opts.slo ?? [], onAlert: opts.onAlert, log: opts.log });
    this.prometheus = new PrometheusExporter(opts);
    this.prometheus.addSlo(this.slo);
    const every = opts.evaluateEveryMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.evaluate(), every);
      this.timer.unref();
    }
  }

  /** Starts watching a pipeline (a newer one with the same name replaces the old one). */
  add(metrics: PipelineMetrics): this {
    this.pipelines.get(metrics.pipeline)?.off();
    const off = metrics.onTick((tick) => this.publish(metrics, tick));
    this.pipelines.set(metrics.pipeline, { metrics, off });
    this.prometheus.add(metrics);
    return this;
  }

  /** Hook for sinks: remember an action (e.g. a fraud alert) for the dashboard's list. */
  recordAction(pipeline: string, action: unknown): void {
    let r = this.actions.get(pipeline);
    if (!r) {
      r = new RecentItems<unknown>(this.opts.recentActions ?? 50);
      this.actions.set(pipeline, r);
    }
    r.push(action);
  }

  /** Calls `listener` with every new snapshot; returns a function that unsubscribes. */
  subscribe(listener: (s: DashboardSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The latest snapshot of each pipeline. */
  latest(): DashboardSnapshot[] {
    return [...this.last.values()];
  }

  /** Evaluates the SLO rules now (the timer calls this once per second). */
  evaluate(now = this.clock()): SloStatus[] {
    return this.slo.evaluate(
      [...this.pipelines.values()].map((p) => p.metrics),
      now,
    );
  }

  /** Stops the timer and unsubscribes from every pipeline. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const p of this.pipelines.values()) p.off();
    this.prometheus.close();
    this.listeners.clear();
  }

  private publish(m: PipelineMetrics, t: ProgressSnapshot): void {
    const mem = process.memoryUsage();
    const snap: DashboardSnapshot = {
      pipeline: m.pipeline,
      at: this.clock(),
      elapsedMs: Math.round(t.elapsedMs),
      intervalMs: Math.round(t.intervalMs),
      eps: Math.round(t.eps),
      counters: t.counters,
      lag: t.lag,
      partitionLag: t.partitionLag ?? null,
      e2e: rounded(t.e2e),
      eventTime: rounded(t.eventTime),
      stages: roundedAll(t.stages),
      batchSizes: roundedAll(t.batchSizes),
      checkpoint: {
        interval: rounded(t.checkpoint),
        lastBytes: m.lastCheckpointBytes,
        totalBytes: m.checkpointBytesTotal,
      },
      deadLetters: Object.fromEntries(m.deadLettersByStage),
      lateRecords: Object.fromEntries(m.lateRecords),
      breakers: Object.fromEntries(m.breakers),
      queues: Object.fromEntries(
        [...m.queues].map(([k, q]) => [k, { depth: q.depth(), capacity: q.capacity }]),
      ),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal },
      slo: this.slo.status().filter((s) => s.pipeline === m.pipeline),
      actions: {
        total: this.actions.get(m.pipeline)?.pushed ?? 0,
        latest: this.actions.get(m.pipeline)?.latest(20) ?? [],
      },
    };
    this.last.set(m.pipeline, snap);
    for (const l of this.listeners) {
      try {
        l(snap);
      } catch (e) {
        process.emitWarning(`observer: snapshot listener failed: ${(e as Error).message}`);
      }
    }
  }
}
