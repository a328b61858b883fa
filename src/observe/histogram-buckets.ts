/**
 * Bucket bounds of the exported Prometheus histograms.
 *
 * Latencies (seconds): 0.5 ms to 30 s in 1-2.5-5 steps, 16 buckets with `+Inf`. Why these:
 * a Sluice stage takes tens of µs to a few ms and end to end is milliseconds, so the
 * resolution has to start below 1 ms; a model call or a checkpoint can take seconds, and an
 * outage longer than 30 s is seen in `+Inf` and the lag anyway. Each bucket is 2-2.5× the one
 * below, so `histogram_quantile` is within one bucket (at most 2.5×, usually far less thanks to
 * its linear interpolation) at about 20 series per label set: cheap to store and to sum across
 * workers. The bounds are fixed (never derived from the data) so that every worker, every
 * version and every restart exports the same `le` values and `sum by (le)` adds them up.
 *
 * @example
 * LATENCY_BUCKETS_SECONDS[0]; // 0.0005
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * Records per batch: 1 to 10 000 in 1-2-5 steps (the runtime reads up to 1024 per batch by default).
 *
 * @example
 * BATCH_SIZE_BUCKETS[BATCH_SIZE_BUCKETS.length - 1]; // 10000
 */
export const BATCH_SIZE_BUCKETS: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000,
];
