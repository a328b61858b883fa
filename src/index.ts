/**
 * Sluice's root export: what a pipeline author needs — the pipeline DSL, decoders, time and
 * aggregations, keyed state, the common sources and sinks, model loading, and the errors. The
 * rest comes by subpath: `sluice/log`, `sluice/broker`, `sluice/connectors` (every source, the
 * schema registry, dead-letter tools, HTTP ingest), `sluice/actions` (the ledger, webhook
 * signatures), `sluice/inference` (batching, resilience, serving errors, tensors),
 * `sluice/observe` (metrics, dashboard, SLOs), `sluice/train`, `sluice/scale` and
 * `sluice/testing`. Operators and state internals are not exported at all.
 *
 * Generic names are renamed here so they cannot collide with a user's own: `minOf`, `maxOf`,
 * `lastOf` (aggregates), `sessionWindows` (the session window assigner), `keyedTable` (a
 * stream-table join's side).
 *
 * @example
 * import { pipeline, json, lookback, count, mean, days, kafkaSource, fileActionSink, action } from 'sluice';
 * await pipeline('payments')
 *   .from(kafkaSource({ brokers: ['127.0.0.1:9092'], topic: 'payments' }))
 *   .decode(json({ card: 'integer', amount: 'number' }))
 *   .features({ card: lookback({ key: (p) => p.card, windows: [days(1)], aggregate: { n: count(), avg: mean((p) => p.amount) } }) })
 *   .to(action({ name: 'big', when: (p) => p.amount > 1000, payload: (p) => p, to: fileActionSink({ path: 'big.jsonl' }) }))
 *   .run().done;
 */

// The pipeline DSL.
export {
  pipeline,
  type Stream,
  type KeyedStream,
  type RunnablePipeline,
  type WindowedStream,
  type SessionWindowedStream,
  type StageOptions,
  type WithFeatures,
  type AggregateResults,
} from './stream/pipeline.js';
export type { PipelineRun, RunOptions, RunSummary } from './stream/runtime.js';
export { mergeSources } from './stream/merge.js';
export { fanOut } from './stream/fan-out.js';
export type { InferOptions } from './stream/infer-step.js';

// Decoders.
export {
  json,
  conform,
  optional,
  type Decoder,
  type JsonSchema,
  type FromSchema,
  type FieldSpec,
  type Optional,
} from './stream/decode.js';
export {
  avro,
  protobuf,
  jsonSchema,
  type AvroOptions,
  type ProtobufOptions,
  type JsonSchemaOptions,
} from './connectors/schema-registry/index.js';

// Time, windows, aggregations, keyed state, tables.
export { seconds, minutes, hours, days } from './stream/time/durations.js';
export { lookback, type LookbackSpec, type LookbackAggregate } from './stream/windows/lookback.js';
export {
  count,
  sum,
  mean,
  min as minOf,
  max as maxOf,
  last as lastOf,
  distinctCount,
  reduce,
  type Aggregate,
  type NonMergingAggregate,
} from './stream/windows/aggregates.js';
export {
  tumbling,
  hopping,
  session as sessionWindows,
  type WindowAssigner,
} from './stream/windows/assigners.js';
export type { WindowOptions, WindowResult, EmitMode } from './stream/windows/window-operator.js';
export {
  valueState,
  listState,
  mapState,
  type ValueState,
  type ListState,
  type MapState,
  type StateHandles,
  type StateSpec,
  type KeyedProcessor,
  type ProcessContext,
  type KeyedStateView,
} from './stream/state/keyed-state.js';
export type { JoinTableOptions } from './stream/keyed-steps.js';
export { table as keyedTable, type Table, type TableSpec } from './stream/joins/table.js';
export type { IntervalJoinOptions } from './stream/joins/interval-join.js';

// Records, and what a custom source or sink implements.
export {
  envelope,
  type Envelope,
  type DeadLetter,
  type RecordKey,
  type SourcePosition,
} from './stream/envelope.js';
export {
  offsetKey,
  type Source,
  type SourceContext,
  type SourceOffsets,
  type Sink,
  type StageContext,
  type DeadLetterSink,
  type ModelLike,
  type TensorLike,
} from './stream/interfaces.js';
export type { CheckpointStore } from './stream/state/store.js';
export { LmdbCheckpointStore } from './stream/state/lmdb-store.js';
// The embedded log a logSource reads (its other parts: sluice/log).
export { Log, type LogOptions } from './log/log.js';

// The common sources and dead-letter outputs (all of them: sluice/connectors).
export { logSource, type LogSourceOptions } from './connectors/log-source.js';
export { kafkaSource, type KafkaSourceOptions } from './connectors/kafka-source.js';
export { fileSource, type FileSourceOptions } from './connectors/file-source.js';
export { sourceFromUrl, type SourceUrlOptions } from './connectors/source-url.js';
export { logDeadLetters } from './connectors/log-dead-letters.js';
export { kafkaDeadLetters } from './connectors/kafka-dead-letters.js';

// Actions, their ledger and their sinks (webhook signatures and the rest: sluice/actions).
export { ActionLedger, type ActionLedgerOptions } from './actions/ledger.js';
export { action, idempotencyKey, type ActionOptions } from './actions/action.js';
export { alert, type AlertOptions, type AlertPayload, type AlertSeverity } from './actions/alert.js';
export type { ActionSink, ActionEntry, DeliveryResult } from './actions/sink.js';
export { actionSinkFromUrl, type ActionSinkUrlOptions } from './actions/sink-url.js';
export { fileActionSink } from './actions/file-sink.js';
export { topicActionSink, type TopicSinkOptions } from './actions/topic-sink.js';
export { kafkaActionSink, type KafkaSinkOptions } from './actions/kafka-sink.js';
export { postgresActionSink, type PostgresSinkOptions } from './actions/postgres-sink.js';
export { webhookActionSink, type WebhookSinkOptions } from './actions/webhook-sink.js';

// Models (batching details, resilience options, tensors: sluice/inference; training: sluice/train).
export type { Model, ModelMetadata } from './inference/model.js';
export { OnnxModel, type OnnxModelOptions } from './inference/onnx-model.js';
export { OnnxWorkerModel, type OnnxWorkerModelOptions } from './inference/runners/onnx-worker-model.js';
export { KServeModel, type KServeModelOptions } from './inference/runners/kserve-model.js';
export { OpenAIModel, type OpenAIModelOptions } from './inference/runners/openai-model.js';
export { batchedModel } from './inference/batch/batched-model.js';
export { withResilience } from './inference/resilience/resilient-model.js';
export type { ModelResilienceOptions } from './inference/resilience/resilience-options.js';

// Errors: the one base, its code list, and each layer's class (docs/errors.md).
export {
  SluiceError,
  isSluiceError,
  ERROR_CODES,
  type SluiceErrorCode,
  type SluiceErrorOptions,
} from './core/errors.js';
export { DecodeError } from './stream/errors.js';
export { EncodeError, type Encoder } from './stream/encode.js';
export { ActionError, type ActionErrorCode } from './actions/errors.js';
export { ConnectorError, type ConnectorErrorCode } from './connectors/errors.js';
export { InferenceError, type InferenceErrorCode } from './inference/errors.js';
export { LogError, type LogErrorCode } from './log/errors.js';
export { BrokerError, type BrokerErrorCode } from './broker/errors.js';
export { ObserveError } from './observe/slo-rules.js';
export { KafkaUrlError } from './kafka-client/index.js';
