/**
 * `sluice/testing`: in-memory sources, sinks and stores for tests of a pipeline, with no files,
 * services or native addons.
 *
 * @example
 * import { pipeline } from 'sluice';
 * import { collect, fromArray, MemoryCheckpointStore } from 'sluice/testing';
 * const out = collect<number>();
 * await pipeline('double').from(fromArray([1, 2, 3])).map((n) => n * 2).to(out)
 *   .run({ checkpoints: new MemoryCheckpointStore() }).done;
 * // out.values: [2, 4, 6]
 */
export { collect, fromArray, MemoryDeadLetters } from './stream/memory.js';
export { MemoryCheckpointStore } from './stream/state/memory-store.js';
