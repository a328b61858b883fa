/**
 * `sluice/actions`: idempotent actions — the action ledger, every action sink, webhook
 * signatures (`signWebhook`, `verifyWebhook` for the receiving side) and alerts. The common
 * parts are also in the root export.
 *
 * @example
 * import { verifyWebhook } from 'sluice/actions';
 * // in the webhook's receiver, with the raw request body:
 * if (!verifyWebhook(process.env.SLUICE_WEBHOOK_SECRET!, req.headers, rawBody)) res.statusCode = 401;
 */
export { ActionLedger, DEFAULT_DEDUP_WINDOW, type ActionLedgerOptions, type LedgerEntry } from './ledger.js';
export { action, idempotencyKey, type ActionOptions } from './action.js';
export { ActionError, type ActionErrorCode } from './errors.js';
export type { ActionSink, ActionEntry, DeliveryResult, Rejection } from './sink.js';
export type { BackoffOptions } from './backoff.js';
export { postgresActionSink, DEFAULT_ACTIONS_TABLE, type PostgresSinkOptions } from './postgres-sink.js';
export {
  webhookActionSink,
  signWebhook,
  verifyWebhook,
  SIGNATURE_HEADER,
  WEBHOOK_SECRET_ENV,
  type WebhookSinkOptions,
} from './webhook-sink.js';
export { topicActionSink, type TopicSinkOptions, type LogLike, type LogPartitionLike } from './topic-sink.js';
export { kafkaActionSink, type KafkaSinkOptions } from './kafka-sink.js';
export { pubsubActionSink, type PubSubSinkOptions } from './pubsub-sink.js';
export {
  kinesisActionSink,
  putRecordsBatches,
  PUT_RECORDS_LIMITS,
  type KinesisSinkOptions,
} from './kinesis-sink.js';
export { fileActionSink } from './file-sink.js';
export { ACTION_HEADERS } from './recent-keys.js';
export { alert, type AlertOptions, type AlertPayload, type AlertSeverity } from './alert.js';
export { actionSinkFromUrl, ACTION_SINK_SCHEMES, type ActionSinkUrlOptions } from './sink-url.js';

// The names before issue 22: a `*Sink` factory returns an ActionSink (the target of `action()`),
// not a stream Sink (`.to()`), hence the `*ActionSink` names. The old ones stay here, deprecated.
import { fileActionSink } from './file-sink.js';
import { kafkaActionSink } from './kafka-sink.js';
import { postgresActionSink } from './postgres-sink.js';
import { topicActionSink } from './topic-sink.js';
import { webhookActionSink } from './webhook-sink.js';
/** @deprecated Use {@link fileActionSink}. @example action({ name: 'a', payload: (r) => r, to: fileSink({ path: 'a.jsonl' }) }) */
export const fileSink = fileActionSink;
/** @deprecated Use {@link kafkaActionSink}. @example action({ name: 'a', payload: (r) => r, to: kafkaSink({ brokers: ['h:9092'], topic: 't' }) }) */
export const kafkaSink = kafkaActionSink;
/** @deprecated Use {@link postgresActionSink}. @example action({ name: 'a', payload: (r) => r, to: postgresSink({ url }) }) */
export const postgresSink = postgresActionSink;
/** @deprecated Use {@link topicActionSink}. @example action({ name: 'a', payload: (r) => r, to: topicSink({ log, topic: 't' }) }) */
export const topicSink = topicActionSink;
/** @deprecated Use {@link webhookActionSink}. @example action({ name: 'a', payload: (r) => r, to: webhookSink({ url }) }) */
export const webhookSink = webhookActionSink;
