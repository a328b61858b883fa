/**
 * `sluice/scale`: one pipeline on several workers of a Kafka consumer group, keyed state per
 * partition with a changelog topic (what `sluice run --workers N` runs).
 *
 * @example
 * import { action, actionSinkFromUrl, json } from 'sluice';
 * import { scaledApp } from 'sluice/scale';
 * export default scaledApp({
 *   name: 'payments',
 *   input: 'payments',
 *   build: (stream) =>
 *     stream.decode(json({ card: 'integer', amount: 'number' }))
 *       .to(action({ name: 'big', when: (p) => p.amount > 1000, payload: (p) => p, to: actionSinkFromUrl('file:big.jsonl') })),
 * });
 */
export { scaledApp, planApp, type ScaledApp, type ScaleContext } from './connectors/scale/app.js';
export { ScaledWorker, type ScaledWorkerOptions, type WorkerEvent } from './connectors/scale/worker.js';
export { ChangelogCheckpointStore, type RestoreProgress } from './connectors/scale/changelog-store.js';
export { partitionFor, murmur2 } from './connectors/scale/partitioner.js';
export { scaleTopics, type ScaleTopics } from './connectors/scale/topics.js';
