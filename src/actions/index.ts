export { ActionLedger, DEFAULT_DEDUP_WINDOW, type ActionLedgerOptions, type LedgerEntry } from './ledger.js';
export { action, idempotencyKey, type ActionOptions } from './action.js';
export { ActionError, type ActionErrorCode } from './errors.js';
export type { ActionSink, ActionEntry, DeliveryResult, Rejection } from './sink.js';
export type { BackoffOptions } from './backoff.js';
export { postgresSink, DEFAULT_ACTIONS_TABLE, type PostgresSinkOptions } from './postgres-sink.js';
export {
  webhookSink,
  signWebhook,
  verifyWebhook,
  SIGNATURE_HEADER,
  WEBHOOK_SECRET_ENV,
  type WebhookSinkOptions,
} from './webhook-sink.js';
export { topicSink, type TopicSinkOptions, type LogLike, type LogPartitionLike } from './topic-sink.js';
export { kafkaSink, type KafkaSinkOptions } from './kafka-sink.js';
export {
  kinesisSink,
  putRecordsBatches,
  PUT_RECORDS_LIMITS,
  type KinesisSinkOptions,
} from './kinesis-sink.js';
export { fileSink } from './file-sink.js';
export { ACTION_HEADERS } from './recent-keys.js';
export { alert, type AlertOptions, type AlertPayload, type AlertSeverity } from './alert.js';
export { actionSinkFromUrl, ACTION_SINK_SCHEMES, type ActionSinkUrlOptions } from './sink-url.js';
