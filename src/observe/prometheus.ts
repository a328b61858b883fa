import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { PipelineMetrics } from './pipeline-metrics.js';
import { metricDefinitions, type MetricType, type Sample } from './prometheus-metrics.js';
import type { SloMonitor } from './slo-monitor.js';

/**
 * A metric whose samples are computed at scrape time from Sluice's own aggregates.
 * Why not prom-client's Counter/Summary: those record every observation themselves; ours
 * already live in HdrHistograms and counters, so recording twice would cost on the hot path.
 * prom-client's Registry only needs `name` and `get()`, and still does the formatting.
 */
class ScrapeMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly collect: () => Sample[],
  ) {}

  get() {
    return { name: this.name, help: this.help, type: this.type, values: this.collect(), aggregator: 'sum' };
  }
}

const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface PrometheusOptions {
  /** Add prom-client's process metrics (RSS, heap, CPU, event-loop lag, GC); default true. */
  processMetrics?: boolean;
}

/**
 * Prometheus exposition of pipeline metrics (`/metrics`): counters, gauges, and histograms
 * whose cumulative `le` buckets come from the pipelines' HdrHistograms (fixed bounds, so they
 * add up across workers). Everything is computed at scrape time from aggregates, so a scrape
 * costs the same at any event rate.
 *
 * @example
 * const prom = new PrometheusExporter();
 * prom.add(run.metrics);
 * res.setHeader('Content-Type', prom.contentType);
 * res.end(await prom.metrics());
 */
export class PrometheusExporter {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  /** Names of the Sluice metrics (not prom-client's process metrics), in exposition order. */
  readonly names: string[] = [];
  private readonly pipelines = new Map<string, PipelineMetrics>();
  private slo: SloMonitor | undefined;

  constructor(opts: PrometheusOptions = {}) {
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters, which `promtool check metrics` rejects; the same figures stay
      // as `nodejs_active_handles{type}`, `nodejs_active_requests{type}`, `nodejs_active_resources{type}`.
      for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
    }
    const defs = metricDefinitions(
      () => this.pipelines.values(),
      () => this.slo?.status() ?? [],
    );
    for (const [name, type, help, collect] of defs) {
      this.names.push(name);
      // The cast: prom-client types registerMetric for its own classes; it only calls get().
      this.registry.registerMetric(new ScrapeMetric(name, help, type, collect) as unknown as Metric);
    }
  }

  /** Exports this pipeline's metrics (a newer pipeline with the same name replaces it). */
  add(metrics: PipelineMetrics): void {
    this.pipelines.set(metrics.pipeline, metrics);
  }

  /** Also exports SLO states and alert counts. */
  addSlo(monitor: SloMonitor): void {
    this.slo = monitor;
  }

  /** Kept for callers of the earlier API: the exporter no longer follows ticks, nothing to stop. */
  close(): void {}

  /** The exposition text. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
