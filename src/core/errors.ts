// The one error base of Sluice and the one list of its error codes. Every layer's errors extend
// SluiceError (it lives in core, the layer everyone may import), so a caller — the CLI, a user's
// pipeline — recognises any Sluice error with one `instanceof`, and matches on a stable `code`,
// never on a message. docs/errors.md lists every code below; test/core/errors-docs.test.ts fails
// when the two drift apart.
import { redactUrls } from './redact.js';

/**
 * Every error code Sluice uses, with the class that carries it. One style: `SLUICE_<AREA>_<WHAT>`,
 * AREA one of {@link ERROR_AREAS}. A code keeps its meaning for good; a code that goes moves to
 * {@link RETIRED_ERROR_CODES} and is never given out again.
 *
 * @example
 * import { ERROR_CODES } from 'sluice';
 * ERROR_CODES.SLUICE_LOG_CORRUPT; // 'LogError'
 */
export const ERROR_CODES = {
  // Options given to any Sluice function, checked once when it is called (requireOption).
  SLUICE_OPTION_INVALID: 'SluiceError',
  SLUICE_OPTION_DEPENDENCY_MISSING: 'SluiceError',
  SLUICE_CLI_USAGE: 'UsageError',
  // The stream DSL and its runtime.
  SLUICE_PIPELINE_INVALID: 'SluiceError',
  SLUICE_PIPELINE_MODEL_MISMATCH: 'SluiceError',
  SLUICE_PIPELINE_EVENT_TIME: 'SluiceError',
  SLUICE_PIPELINE_INFER_FAILED: 'SluiceError',
  SLUICE_DECODE_FAILED: 'DecodeError',
  SLUICE_ENCODE_FAILED: 'EncodeError',
  SLUICE_STATE_UNREADABLE: 'SluiceError',
  SLUICE_OBSERVE_INVALID_OPTION: 'ObserveError',
  // The embedded log.
  SLUICE_LOG_CORRUPT: 'LogError',
  SLUICE_LOG_UNSUPPORTED_MAGIC: 'LogError',
  SLUICE_LOG_UNSUPPORTED_COMPRESSION: 'LogError',
  SLUICE_LOG_INVALID_BATCH: 'LogError',
  SLUICE_LOG_BATCH_TOO_LARGE: 'LogError',
  SLUICE_LOG_OFFSET_OUT_OF_RANGE: 'LogOffsetOutOfRangeError',
  SLUICE_LOG_UNKNOWN_TOPIC: 'LogError',
  SLUICE_LOG_UNKNOWN_PARTITION: 'LogError',
  SLUICE_LOG_INVALID_TOPIC_NAME: 'LogError',
  SLUICE_LOG_TOPIC_EXISTS: 'LogError',
  SLUICE_LOG_INVALID_ARGUMENT: 'LogError',
  SLUICE_LOG_CLOSED: 'LogError',
  SLUICE_LOG_LOCKED: 'LogError',
  SLUICE_LOG_IO_ERROR: 'LogError',
  // The Kafka broker.
  SLUICE_BROKER_INVALID_OPTION: 'BrokerError',
  SLUICE_BROKER_MALFORMED_REQUEST: 'MalformedRequestError',
  SLUICE_BROKER_REQUEST_TOO_LARGE: 'BrokerError',
  SLUICE_BROKER_LISTEN_FAILED: 'BrokerError',
  // Kafka URLs and client settings.
  SLUICE_KAFKA_URL: 'KafkaUrlError',
  // Inference.
  SLUICE_INFERENCE_INPUT_MISSING: 'ModelInputError',
  SLUICE_INFERENCE_INPUT_UNKNOWN: 'ModelInputError',
  SLUICE_INFERENCE_INPUT_TYPE: 'ModelInputError',
  SLUICE_INFERENCE_INPUT_DIMS: 'ModelInputError',
  SLUICE_INFERENCE_TENSOR_SIZE: 'TensorSizeError',
  SLUICE_INFERENCE_UNSUPPORTED_TYPE: 'UnsupportedTensorTypeError',
  SLUICE_INFERENCE_MODEL_LOAD: 'ModelLoadError',
  SLUICE_INFERENCE_MODEL_CLOSED: 'ModelClosedError',
  SLUICE_INFERENCE_MODEL_RUN: 'ModelRunError',
  SLUICE_INFERENCE_INVALID_ARGUMENT: 'InvalidArgumentError',
  SLUICE_INFERENCE_QUEUE_FULL: 'QueueFullError',
  SLUICE_INFERENCE_QUEUE_TIMEOUT: 'QueueTimeoutError',
  SLUICE_INFERENCE_BATCH_OUTPUT: 'BatchOutputError',
  SLUICE_INFERENCE_TIMEOUT: 'InferenceTimeoutError',
  SLUICE_INFERENCE_CIRCUIT_OPEN: 'CircuitOpenError',
  SLUICE_INFERENCE_BULKHEAD_FULL: 'BulkheadFullError',
  SLUICE_INFERENCE_OVERLOADED: 'ModelOverloadedError',
  SLUICE_INFERENCE_REMOTE: 'RemoteModelError',
  SLUICE_INFERENCE_PROTOCOL: 'ProtocolError',
  SLUICE_INFERENCE_WORKER: 'WorkerError',
  SLUICE_INFERENCE_SWAP_MISMATCH: 'SwapMismatchError',
  SLUICE_INFERENCE_ABORTED: 'InferenceAbortedError',
  // Actions and their sinks.
  SLUICE_ACTION_REJECTED: 'ActionError',
  SLUICE_ACTION_UNAVAILABLE: 'ActionError',
  SLUICE_ACTION_FAILED: 'ActionError',
  SLUICE_SINK_URL: 'ActionError',
  SLUICE_SINK_SECRET: 'ActionError',
  // Sources, dead letters, scale-out, schema registry.
  SLUICE_SOURCE_URL: 'ConnectorError',
  SLUICE_SINK_FORMAT: 'ConnectorError',
  SLUICE_SOURCE_UNAVAILABLE: 'ConnectorError',
  SLUICE_SOURCE_CLIENT_UNSUPPORTED: 'ConnectorError',
  SLUICE_DLQ_NOT_FOUND: 'ConnectorError',
  SLUICE_DLQ_KEY_INVALID: 'ConnectorError',
  SLUICE_SCALE_UNSUPPORTED: 'ConnectorError',
  SLUICE_SCALE_TOPICS: 'ConnectorError',
  SLUICE_SCHEMA_REGISTRY_REFUSED: 'ConnectorError',
  SLUICE_SCHEMA_REGISTRY_UNAVAILABLE: 'RegistryUnavailableError',
  SLUICE_SCHEMA_UNKNOWN_ID: 'UnknownSchemaError',
  // HTTP ingest: not thrown, but the `code` of a refused request's JSON answer.
  SLUICE_INGEST_FAILED: 'HttpIngest',
  SLUICE_INGEST_NOT_FOUND: 'HttpIngest',
  SLUICE_INGEST_UNAUTHORIZED: 'HttpIngest',
  SLUICE_INGEST_METHOD: 'HttpIngest',
  SLUICE_INGEST_BAD_TOPIC: 'HttpIngest',
  SLUICE_INGEST_TOPIC: 'HttpIngest',
  SLUICE_INGEST_BEHIND: 'HttpIngest',
  SLUICE_INGEST_BUSY: 'HttpIngest',
  SLUICE_INGEST_TOO_LARGE: 'HttpIngest',
  SLUICE_INGEST_BAD_JSON: 'HttpIngest',
  SLUICE_INGEST_CONTENT_TYPE: 'HttpIngest',
  SLUICE_INGEST_EMPTY: 'HttpIngest',
  SLUICE_INGEST_REFUSED: 'HttpIngest',
} as const;

/** One of the codes in {@link ERROR_CODES}. */
export type SluiceErrorCode = keyof typeof ERROR_CODES;

/**
 * The AREA word of `SLUICE_<AREA>_<WHAT>`: the part of Sluice an error comes from.
 *
 * @example
 * ERROR_AREAS.includes('LOG'); // true
 */
export const ERROR_AREAS = [
  'OPTION',
  'CLI',
  'PIPELINE',
  'DECODE',
  'ENCODE',
  'STATE',
  'OBSERVE',
  'LOG',
  'BROKER',
  'KAFKA',
  'INFERENCE',
  'ACTION',
  'SINK',
  'SOURCE',
  'DLQ',
  'SCALE',
  'SCHEMA',
  'INGEST',
] as const;

/**
 * Codes Sluice no longer uses, each with the code that replaced it (or '' when none did). They
 * are never given out again, so a handler written for an old code cannot match a new meaning.
 *
 * @example
 * RETIRED_ERROR_CODES.LOG_CORRUPT; // 'SLUICE_LOG_CORRUPT'
 */
export const RETIRED_ERROR_CODES: Readonly<Record<string, SluiceErrorCode | ''>> = {
  SLUICE_PIPELINE_INCOMPLETE: '', // listed, never thrown
  SLUICE_PIPELINE_RUNNING: '', // listed, never thrown
  SLUICE_SOURCE_NOT_AVAILABLE: '', // listed, never thrown
  SLUICE_INVALID_OPTION: 'SLUICE_OPTION_INVALID',
  SLUICE_USAGE: 'SLUICE_CLI_USAGE',
  SLUICE_DECODE: 'SLUICE_DECODE_FAILED',
  SLUICE_MODEL_MISMATCH: 'SLUICE_PIPELINE_MODEL_MISMATCH',
  SLUICE_CHECKPOINT: 'SLUICE_STATE_UNREADABLE',
  SLUICE_SCALE: 'SLUICE_SCALE_UNSUPPORTED', // and SLUICE_SCALE_TOPICS for the topics' checks
  SLUICE_DLQ_KEY: 'SLUICE_DLQ_KEY_INVALID', // still the name of the key's environment variable
  SLUICE_SCHEMA_REGISTRY: 'SLUICE_SCHEMA_REGISTRY_REFUSED',
  LOG_CORRUPT: 'SLUICE_LOG_CORRUPT',
  LOG_UNSUPPORTED_MAGIC: 'SLUICE_LOG_UNSUPPORTED_MAGIC',
  LOG_UNSUPPORTED_COMPRESSION: 'SLUICE_LOG_UNSUPPORTED_COMPRESSION',
  LOG_INVALID_BATCH: 'SLUICE_LOG_INVALID_BATCH',
  LOG_BATCH_TOO_LARGE: 'SLUICE_LOG_BATCH_TOO_LARGE',
  LOG_OFFSET_OUT_OF_RANGE: 'SLUICE_LOG_OFFSET_OUT_OF_RANGE',
  LOG_UNKNOWN_TOPIC: 'SLUICE_LOG_UNKNOWN_TOPIC',
  LOG_UNKNOWN_PARTITION: 'SLUICE_LOG_UNKNOWN_PARTITION',
  LOG_INVALID_TOPIC_NAME: 'SLUICE_LOG_INVALID_TOPIC_NAME',
  LOG_TOPIC_EXISTS: 'SLUICE_LOG_TOPIC_EXISTS',
  LOG_INVALID_ARGUMENT: 'SLUICE_LOG_INVALID_ARGUMENT',
  LOG_CLOSED: 'SLUICE_LOG_CLOSED',
  LOG_LOCKED: 'SLUICE_LOG_LOCKED',
  LOG_IO_ERROR: 'SLUICE_LOG_IO_ERROR',
  BROKER_INVALID_OPTION: 'SLUICE_BROKER_INVALID_OPTION',
  BROKER_MALFORMED_REQUEST: 'SLUICE_BROKER_MALFORMED_REQUEST',
  BROKER_REQUEST_TOO_LARGE: 'SLUICE_BROKER_REQUEST_TOO_LARGE',
  BROKER_UNSUPPORTED_REQUEST: '', // listed, never thrown
  BROKER_LISTEN_FAILED: 'SLUICE_BROKER_LISTEN_FAILED',
  BROKER_CLOSED: '', // listed, never thrown
};

/** What a {@link SluiceError} may carry besides its code and message. */
export interface SluiceErrorOptions {
  /** The error that led to this one (a client library's, the file system's). */
  cause?: unknown;
  /** Machine-readable facts about the failure (a path, a limit); never a secret. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of every error Sluice throws: a stable `code` from {@link ERROR_CODES} to match on,
 * and a message that says what to fix. Credentials in URLs quoted by a message are cut
 * (`redactUrls`), so a message is safe to log.
 *
 * @example
 * try { await run.done } catch (e) {
 *   if (e instanceof SluiceError) console.error(`${e.message} [${e.code}]`);
 * }
 */
export class SluiceError extends Error {
  readonly code: SluiceErrorCode;
  /** Machine-readable facts about the failure, when the thrower gave some. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: SluiceErrorCode, message: string, options?: SluiceErrorOptions) {
    super(redactUrls(message), options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/**
 * Whether `e` is one of Sluice's errors (any layer's).
 *
 * @example
 * if (isSluiceError(e)) console.error(e.code);
 */
export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof SluiceError;
}

/**
 * Throws SLUICE_OPTION_INVALID unless `ok`; used to check options once, when a function is
 * called, never per record.
 *
 * @example
 * requireOption(opts.batchSize > 0, `batchSize must be > 0, got ${opts.batchSize}`);
 */
export function requireOption(ok: boolean, message: string): asserts ok {
  if (!ok) throw new SluiceError('SLUICE_OPTION_INVALID', message);
}
