/**
 * `sluice/observe`: latency histograms, pipeline counters, the Prometheus exporter, the live
 * dashboard, SLO rules and health checks.
 *
 * @example
 * import { PrometheusExporter, parseSloRule } from 'sluice/observe';
 * const prom = new PrometheusExporter();
 * prom.add(run.metrics); // serve await prom.metrics() on /metrics
 * const rule = parseSloRule('e2e-p99=e2e_p99_ms<250@1m');
 */
export { wallClockMs } from './clock.js';
export { LatencyHistogram, type LatencySummary } from './histogram.js';
export { SlidingHistogram, monotonicMs, type Clock } from './sliding-histogram.js';
export { WindowedHistogram } from './windowed-histogram.js';
export {
  PipelineMetrics,
  emptyCounters,
  partitionLagOf,
  partitionLagMsOf,
  recordTimesSince,
  type BreakerState,
  type PartitionLagSource,
  type PipelineCounters,
  type ProgressSnapshot,
} from './pipeline-metrics.js';
export { RecentItems } from './recent-items.js';
export {
  ObserveError,
  parseDuration,
  parseSloRule,
  type AlertSink,
  type SloAlert,
  type SloOp,
  type SloRule,
} from './slo-rules.js';
export { SloMonitor, type SloMonitorOptions, type SloStatus } from './slo-monitor.js';
export { PrometheusExporter, type PrometheusOptions } from './prometheus.js';
export { Observer, type DashboardSnapshot, type ObserverOptions } from './observer.js';
export { DashboardServer, startDashboard, type DashboardOptions } from './dashboard-server.js';
export { pipelineChecks, readiness, type HealthCheck, type Readiness } from './health.js';
export { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS_SECONDS } from './histogram-buckets.js';
export {
  tracingConfig,
  DEFAULT_SAMPLE_RATIO,
  type SamplerName,
  type TracingConfig,
  type TracingOptions,
} from './tracing/config.js';
export { RecordTracer, type RecordTrace, type TracedRecord } from './tracing/record-tracer.js';
export { formatTraceparent, parseTraceparent, type TraceContext } from './tracing/traceparent.js';
