/**
 * `sluice/testing`: drive a pipeline from a test with no files, services or native addons.
 * `testDriver` feeds records with event times and keys, moves the watermark and the clock,
 * fakes models and restarts from checkpoints; `collect`, `fromArray` and the memory stores
 * are the parts it is built from. docs/testing.md walks through it.
 *
 * @example
 * import { pipeline } from 'sluice';
 * import { testDriver } from 'sluice/testing';
 * const driver = await testDriver<number, number>((t) => pipeline('double').from(t.input).map((n) => n * 2).to(t.output));
 * await driver.sendAll([1, 2, 3]);
 * // driver.outputs: [2, 4, 6]
 * await driver.close();
 */
export {
  testDriver,
  PipelineTestDriver,
  type TestDriverOptions,
  type DriverWiring,
  type OutputRecord,
  type Runnable,
} from './testing/driver.js';
export { DriverSource, type InputRecord } from './testing/driver-source.js';
export {
  fakeModel,
  FakeModel,
  type FakeModelOptions,
  type FakeAnswer,
  type FakeFailure,
} from './testing/fake-model.js';
export { recordingActions, RecordingActions } from './testing/recording-actions.js';
export { collect, fromArray, MemoryDeadLetters } from './stream/memory.js';
export { MemoryCheckpointStore } from './stream/state/memory-store.js';
