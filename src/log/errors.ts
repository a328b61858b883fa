// Errors of the embedded log. Codes are stable and never reused: callers (the Kafka broker, the
// stream runtime) switch on `code`, never on the message.

/** Every code a {@link LogError} can carry. */
export const LOG_ERROR_CODES = [
  'LOG_CORRUPT',
  'LOG_UNSUPPORTED_MAGIC',
  'LOG_UNSUPPORTED_COMPRESSION',
  'LOG_INVALID_BATCH',
  'LOG_BATCH_TOO_LARGE',
  'LOG_OFFSET_OUT_OF_RANGE',
  'LOG_UNKNOWN_TOPIC',
  'LOG_UNKNOWN_PARTITION',
  'LOG_INVALID_TOPIC_NAME',
  'LOG_TOPIC_EXISTS',
  'LOG_INVALID_ARGUMENT',
  'LOG_CLOSED',
  'LOG_LOCKED',
  'LOG_IO_ERROR',
] as const;

export type LogErrorCode = (typeof LOG_ERROR_CODES)[number];

/**
 * An error raised by the embedded log. `code` is stable; the message says what to do.
 *
 * @example
 * try { partition.read(offset) } catch (err) {
 *   if (err instanceof LogError && err.code === 'LOG_OFFSET_OUT_OF_RANGE') offset = partition.logStartOffset;
 * }
 */
export class LogError extends Error {
  readonly code: LogErrorCode;

  constructor(code: LogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogError';
    this.code = code;
  }
}

/** A read asked for an offset outside `[logStartOffset, highWatermark]`; carries both bounds. */
export class LogOffsetOutOfRangeError extends LogError {
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly highWatermark: number,
    where: string,
  ) {
    super(
      'LOG_OFFSET_OUT_OF_RANGE',
      `offset ${offset} is out of range for ${where}: valid offsets are ${logStartOffset}..${highWatermark} ` +
        `(the high watermark ${highWatermark} means "wait for new records"); ` +
        `reset the consumer to logStartOffset or highWatermark`,
    );
    this.name = 'LogOffsetOutOfRangeError';
  }
}
