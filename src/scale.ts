/**
 * `sluice/scale`: one pipeline on several workers of a Kafka consumer group, keyed state per
 * partition with a changelog topic (what `sluice run --workers N` runs).
 *
 * @example
 * import { scaledApp } from 'sluice/scale';
 * export default scaledApp({ name: 'payments', input: 'payments', build: (p) => p.map(score) });
 */
export { scaledApp, planApp, type ScaledApp, type ScaleContext } from './connectors/scale/app.js';
export { ScaledWorker, type ScaledWorkerOptions, type WorkerEvent } from './connectors/scale/worker.js';
export { ChangelogCheckpointStore, type RestoreProgress } from './connectors/scale/changelog-store.js';
export { partitionFor, murmur2 } from './connectors/scale/partitioner.js';
export { scaleTopics, type ScaleTopics } from './connectors/scale/topics.js';
