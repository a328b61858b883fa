// Errors of the embedded log. Codes are stable and never reused: callers (the Kafka broker, the
// stream runtime) switch on `code`, never on the message.
import { ERROR_CODES, SluiceError, type SluiceErrorCode, type SluiceErrorOptions } from '../core/errors.js';

/** Every code a {@link LogError} can carry (its part of the one list in `core/errors.ts`). */
export const LOG_ERROR_CODES = Object.keys(ERROR_CODES).filter((c) =>
  c.startsWith('SLUICE_LOG_'),
) as readonly LogErrorCode[];

export type LogErrorCode = Extract<SluiceErrorCode, `SLUICE_LOG_${string}`>;

/**
 * An error raised by the embedded log. `code` is stable; the message says what to do.
 *
 * @example
 * try { partition.read(offset) } catch (err) {
 *   if (err instanceof LogError && err.code === 'SLUICE_LOG_OFFSET_OUT_OF_RANGE') offset = partition.logStartOffset;
 * }
 */
export class LogError extends SluiceError {
  declare readonly code: LogErrorCode;

  constructor(code: LogErrorCode, message: string, options?: SluiceErrorOptions) {
    super(code, message, options);
    this.name = 'LogError';
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
      'SLUICE_LOG_OFFSET_OUT_OF_RANGE',
      `offset ${offset} is out of range for ${where}: valid offsets are ${logStartOffset}..${highWatermark} ` +
        `(the high watermark ${highWatermark} means "wait for new records"); ` +
        `reset the consumer to logStartOffset or highWatermark`,
    );
    this.name = 'LogOffsetOutOfRangeError';
  }
}
