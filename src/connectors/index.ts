/**
 * `sluice/connectors`: every source (log, Kafka, files, HTTP ingest, MQTT, NATS, Redis, by URL),
 * Schema Registry decoders, dead-letter topics and their replay, ingest, and scale-out's parts
 * (also in `sluice/scale`).
 *
 * @example
 * import { pipeline, json } from 'sluice';
 * import { mqttSource } from 'sluice/connectors';
 * const source = mqttSource({ url: 'mqtt://127.0.0.1:1883', topic: 'sensors/+/temp', spool: { log } });
 * pipeline('sensors').from(source).decode(json({ c: 'number' }));
 */
export { logSource, type LogSourceOptions } from './log-source.js';
export { logDeadLetters, DLQ_HEADERS } from './log-dead-letters.js';
export { kafkaSource, type KafkaSourceOptions } from './kafka-source.js';
export { ConnectorError, type ConnectorErrorCode } from './errors.js';
export { fileSource, type FileSourceOptions } from './file-source.js';
export { csvHeader } from './csv.js';
export { HttpIngest, INGEST_TOKEN_ENV, type HttpIngestOptions } from './http-ingest.js';
export { httpIngestSource, type HttpIngestSourceOptions } from './http-ingest-source.js';
export { mqttSource, mqttSpoolTopic, type MqttSourceOptions } from './mqtt-source.js';
export { natsSource, natsStreamName, type NatsSourceOptions } from './nats-source.js';
export { redisSource, type RedisSourceOptions } from './redis-source.js';
export { pubsubSource, type PubSubSourceOptions } from './pubsub-source.js';
export { kinesisSource, type KinesisSourceOptions } from './kinesis-source.js';
export { sourceFromUrl, SOURCE_SCHEMES, type SourceUrlOptions } from './source-url.js';
export {
  historySource,
  isTopicUrl,
  lookbackHorizon,
  type HistoryRange,
  type PartitionRanges,
} from './history-source.js';
export { readDeadLetters, DLQ_REPLAY_GROUP, type StoredDeadLetter } from './dead-letters.js';
export { replayDeadLetters, type ReplayOptions, type ReplayReport } from './dlq-replay.js';
export { DLQ_KEY_ENV, DLQ_KEY_FILE, SIGNATURE_HEADERS } from './dlq-auth.js';
export { kafkaDeadLetters } from './kafka-dead-letters.js';
export { scaledApp, planApp, type ScaledApp, type ScaleContext } from './scale/app.js';
export { ScaledWorker, type ScaledWorkerOptions, type WorkerEvent } from './scale/worker.js';
export { ChangelogCheckpointStore, type RestoreProgress } from './scale/changelog-store.js';
export { partitionFor, murmur2 } from './scale/partitioner.js';
export { scaleTopics, type ScaleTopics } from './scale/topics.js';
export { startIngest, INGEST_SCHEMES, type Ingest, type IngestStats } from './ingest.js';
export { mqttIngest, type MqttIngestOptions } from './mqtt-ingest.js';
export {
  avro,
  protobuf,
  jsonSchema,
  SchemaRegistry,
  UnknownSchemaError,
  RegistryUnavailableError,
  type AvroOptions,
  type ProtobufOptions,
  type JsonSchemaOptions,
  type SchemaRegistryOptions,
  type RegistrySchema,
  type RegistryOption,
  type EncoderRegistryOptions,
  decoderFromUrl,
  encoderFromUrl,
  URL_FORMATS,
} from './schema-registry/index.js';
