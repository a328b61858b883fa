import { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS_SECONDS } from './histogram-buckets.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { SloStatus } from './slo-monitor.js';
import type { WindowedHistogram } from './windowed-histogram.js';

type Labels = Record<string, string | number>;
/** One exposition line: prom-client's shape for a metric value. */
export interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
export type MetricType = 'counter' | 'gauge' | 'histogram';
/** name, type, help, and how to compute the samples at scrape time. */
export type MetricDefinition = [string, MetricType, string, () => Sample[]];

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

type HistogramKind = 'e2e' | 'event_time' | 'checkpoint' | 'stage' | 'batch' | 'model_call' | 'batch_wait';

/** Every histogram series of a pipeline, with its kind and labels. */
export function histogramSeries(
  m: PipelineMetrics,
): { kind: HistogramKind; h: WindowedHistogram; labels: Labels }[] {
  const pipeline = m.pipeline;
  return [
    { kind: 'e2e' as const, h: m.e2e, labels: { pipeline } },
    { kind: 'event_time' as const, h: m.eventTime, labels: { pipeline } },
    { kind: 'checkpoint' as const, h: m.checkpointDuration, labels: { pipeline } },
    ...m
      .stageNames()
      .map((stage) => ({ kind: 'stage' as const, h: m.stage(stage), labels: { pipeline, stage } })),
    ...m
      .batchStages()
      .map((stage) => ({ kind: 'batch' as const, h: m.batchSize(stage), labels: { pipeline, stage } })),
    ...m
      .modelCallStages()
      .map((stage) => ({ kind: 'model_call' as const, h: m.modelCall(stage), labels: { pipeline, stage } })),
    ...m
      .batchWaitStages()
      .map((stage) => ({ kind: 'batch_wait' as const, h: m.batchWait(stage), labels: { pipeline, stage } })),
  ];
}

/**
 * The metrics Sluice exports (docs/observe.md has the same table). Each reads aggregates at
 * scrape time: counters and gauges directly, histograms' buckets, `_sum` and `_count` from the
 * HdrHistograms' running totals (docs/observe.md says why these buckets).
 */
export function metricDefinitions(
  pipelines: () => Iterable<PipelineMetrics>,
  slo: () => SloStatus[],
): MetricDefinition[] {
  const each = (fn: (m: PipelineMetrics) => Sample[] | number) => (): Sample[] =>
    [...pipelines()].flatMap((m) => {
      const r = fn(m);
      return typeof r === 'number' ? [{ labels: { pipeline: m.pipeline }, value: r }] : r;
    });
  const perKey = <V>(map: (m: PipelineMetrics) => Map<string, V>, key: string, value: (v: V) => number) =>
    each((m) =>
      [...map(m)].map(([k, v]) => ({ labels: { pipeline: m.pipeline, [key]: k }, value: value(v) })),
    );
  // Histograms: cumulative `le` buckets, `_sum` and `_count` of everything folded so far
  // (never reset, so rate() works), read from the HdrHistogram at scrape time.
  const histogram = (kind: HistogramKind, bounds: readonly number[], scale: number, name: string) => {
    const boundsMs = bounds.map((b) => b / scale);
    const le = bounds.map(String);
    return (): Sample[] =>
      [...pipelines()].flatMap((m) =>
        histogramSeries(m)
          .filter((s) => s.kind === kind)
          .flatMap(({ h, labels }) => {
            const counts = h.foldedCountsAtOrBelow(boundsMs);
            const count = h.foldedCount;
            return [
              ...counts.map((value, i) => ({
                metricName: `${name}_bucket`,
                labels: { ...labels, le: le[i]! },
                value,
              })),
              { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
              { metricName: `${name}_sum`, labels, value: h.foldedSum * scale },
              { metricName: `${name}_count`, labels, value: count },
            ];
          }),
      );
  };
  const latency = (kind: HistogramKind) => (name: string) =>
    histogram(kind, LATENCY_BUCKETS_SECONDS, 1e-3, name);
  const sloEach = (value: (s: SloStatus) => number | null) => () =>
    slo().flatMap((s) => {
      const v = value(s);
      return v === null ? [] : [{ labels: { pipeline: s.pipeline, slo: s.name }, value: v }];
    });
  const identity = (n: number) => n;

  const defs: [string, MetricType, string, (name: string) => () => Sample[]][] = [
    ['sluice_records_in_total', 'counter', 'Records read from the source.', () => each((m) => m.counters.in)],
    [
      'sluice_records_processed_total',
      'counter',
      'Records that left the last stage.',
      () => each((m) => m.counters.processed),
    ],
    [
      'sluice_dead_letters_total',
      'counter',
      'Records sent to the dead-letter output, by rejecting stage.',
      () => perKey((m) => m.deadLettersByStage, 'stage', identity),
    ],
    [
      'sluice_late_records_total',
      'counter',
      'Records that arrived after their window closed, by stage.',
      () => perKey((m) => m.lateRecords, 'stage', identity),
    ],
    ['sluice_actions_total', 'counter', 'Action effects performed.', () => each((m) => m.counters.actions)],
    [
      'sluice_duplicate_actions_total',
      'counter',
      'Actions skipped because their idempotency key was done.',
      () => each((m) => m.counters.duplicateActions),
    ],
    [
      'sluice_checkpoint_written_bytes_total',
      'counter',
      'Bytes of state changes written by checkpoints.',
      () => each((m) => m.checkpointBytesTotal),
    ],
    [
      'sluice_checkpoint_size_bytes',
      'gauge',
      'Bytes of state changes in the last checkpoint.',
      () => each((m) => m.lastCheckpointBytes),
    ],
    [
      'sluice_consumer_lag_records',
      'gauge',
      'Records available at the source but not read yet.',
      () => each((m) => m.lag),
    ],
    [
      'sluice_partition_lag_records',
      'gauge',
      'Consumer lag per topic/partition (sources that can tell).',
      () =>
        each((m) =>
          Object.entries(m.partitionLag ?? {}).map(([k, v]) => ({
            labels: { pipeline: m.pipeline, partition: k },
            value: v,
          })),
        ),
    ],
    [
      'sluice_partition_lag_seconds',
      'gauge',
      'How far behind the newest record the source reads, per topic/partition (Kinesis MillisBehindLatest).',
      () =>
        each((m) =>
          Object.entries(m.partitionLagMs ?? {}).map(([k, v]) => ({
            labels: { pipeline: m.pipeline, partition: k },
            value: v / 1000,
          })),
        ),
    ],
    [
      'sluice_queue_depth_batches',
      'gauge',
      'Batches waiting in the queue in front of a stage.',
      () =>
        perKey(
          (m) => m.queues,
          'stage',
          (q) => q.depth(),
        ),
    ],
    [
      'sluice_queue_capacity_batches',
      'gauge',
      'Capacity of the queue in front of a stage.',
      () =>
        perKey(
          (m) => m.queues,
          'stage',
          (q) => q.capacity,
        ),
    ],
    [
      'sluice_stage_waiting_records',
      'gauge',
      'Records an infer stage holds while its model is unavailable (onUnavailable: wait).',
      () =>
        perKey(
          (m) => m.waiting,
          'stage',
          (n) => n,
        ),
    ],
    [
      'sluice_circuit_breaker_state',
      'gauge',
      'Circuit-breaker state: 1 for the current state, 0 for the others.',
      () =>
        each((m) =>
          [...m.breakers].flatMap(([breaker, s]) =>
            BREAKER_STATES.map((state) => ({
              labels: { pipeline: m.pipeline, breaker, state },
              value: s === state ? 1 : 0,
            })),
          ),
        ),
    ],
    ['sluice_stage_latency_seconds', 'histogram', 'Time a record spends in each stage.', latency('stage')],
    ['sluice_e2e_latency_seconds', 'histogram', 'Log append to action done.', latency('e2e')],
    ['sluice_event_time_latency_seconds', 'histogram', 'Event time to action done.', latency('event_time')],
    [
      'sluice_checkpoint_duration_seconds',
      'histogram',
      'Time to make a checkpoint durable.',
      latency('checkpoint'),
    ],
    [
      'sluice_model_call_seconds',
      'histogram',
      'Duration of each model call of an infer stage.',
      latency('model_call'),
    ],
    [
      'sluice_batch_wait_seconds',
      'histogram',
      'Time records waited in the queue before an async stage took their batch.',
      latency('batch_wait'),
    ],
    [
      'sluice_batch_size_records',
      'histogram',
      'Records per batch entering an async stage (model, sink).',
      (n) => histogram('batch', BATCH_SIZE_BUCKETS, 1, n),
    ],
    [
      'sluice_slo_firing',
      'gauge',
      '1 while an SLO objective is breached.',
      () => sloEach((s) => (s.state === 'firing' ? 1 : 0)),
    ],
    [
      'sluice_slo_value',
      'gauge',
      'Last evaluated value of an SLO metric (absent before data).',
      () => sloEach((s) => s.value),
    ],
    ['sluice_slo_threshold', 'gauge', 'Threshold of an SLO objective.', () => sloEach((s) => s.threshold)],
    ['sluice_slo_alerts_total', 'counter', 'Times an SLO fired.', () => sloEach((s) => s.fired)],
  ];
  return defs.map(([name, type, help, make]) => [name, type, help, make(name)]);
}
