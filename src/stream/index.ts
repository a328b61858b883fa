export {
  pipeline,
  Stream,
  KeyedStream,
  RunnablePipeline,
  WindowedStream,
  SessionWindowedStream,
  type StageOptions,
  type WithFeatures,
  type AggregateResults,
} from './pipeline.js';
export type { JoinTableOptions } from './keyed-steps.js';
export { PipelineRun, type RunOptions, type RunSummary } from './runtime.js';
export {
  json,
  conform,
  optional,
  type Decoder,
  type JsonSchema,
  type FromSchema,
  type FieldSpec,
  type Optional,
} from './decode.js';
export {
  envelope,
  recordId,
  derivedId,
  type Envelope,
  type DeadLetter,
  type RecordKey,
  type SourcePosition,
} from './envelope.js';
export { EncodeError, type Encoder } from './encode.js';
export { SluiceError, DecodeError, requireOption, type StreamErrorCode } from './errors.js';
export {
  offsetKey,
  type Source,
  type SourceContext,
  type SourceOffsets,
  type Sink,
  type StageContext,
  type DeadLetterSink,
  type Stateful,
  type ModelLike,
  type TensorLike,
} from './interfaces.js';
export type { InferOptions } from './infer-step.js';
export type { InferInputRow, InferOutputRow, InferTensorKind } from './infer-tensors.js';
export { isModelUnavailable, type OnUnavailable, type WaitBackoff } from './model-outage.js';
export { RetryBackoff } from './retry-backoff.js';
export { collect, fromArray, MemoryDeadLetters } from './memory.js';
export type { Step, SyncStep, AsyncStep, Batch, FusedInputs } from './steps.js';
export { fanOut } from './fan-out.js';
export { LmdbCheckpointStore } from './state/lmdb-store.js';
export { MemoryCheckpointStore } from './state/memory-store.js';
export { KeyedStateCache, META_KEY, type KeyedStateCacheOptions } from './state/keyed-cache.js';
export type { CheckpointStore, CheckpointMeta, StateChange, StateReader } from './state/store.js';
export { approxBytes } from './state/store.js';
export { seconds, minutes, hours, days, durationLabel } from './time/durations.js';
export { lookback, LookbackFeatures, type LookbackSpec, type LookbackAggregate } from './windows/lookback.js';
export {
  count,
  sum,
  mean,
  min,
  max,
  last,
  distinctCount,
  reduce,
  type Aggregate,
  type NonMergingAggregate,
} from './windows/aggregates.js';
export {
  tumbling,
  hopping,
  session,
  windowsOf,
  type WindowAssigner,
  type FixedWindowAssigner,
  type SessionWindowAssigner,
} from './windows/assigners.js';
export {
  WindowOperator,
  type WindowOptions,
  type WindowResult,
  type EmitMode,
} from './windows/window-operator.js';
export { WatermarkTracker, type WatermarkOptions } from './time/watermarks.js';
export {
  valueState,
  listState,
  mapState,
  KeyedProcessOperator,
  type ValueState,
  type ListState,
  type MapState,
  type StateHandles,
  type StateSpec,
  type KeyedProcessOptions,
  type KeyedProcessor,
  type ProcessContext,
  type KeyedStateView,
} from './state/keyed-state.js';
export { table, Table, type TableSpec } from './joins/table.js';
export { IntervalJoinOperator, type IntervalJoinOptions } from './joins/interval-join.js';
export { mergeSources } from './merge.js';
