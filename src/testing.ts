/**
 * `sluice/testing`: in-memory sources, sinks and stores for tests of a pipeline, with no files,
 * services or native addons.
 *
 * @example
 * import { collect, fromArray, MemoryCheckpointStore } from 'sluice/testing';
 * const out = collect<Alert>();
 * await myPipeline(fromArray(events), out).run({ checkpoints: new MemoryCheckpointStore() }).done;
 */
export { collect, fromArray, MemoryDeadLetters } from './stream/memory.js';
export { MemoryCheckpointStore } from './stream/state/memory-store.js';
