/** Stable error codes of the stream layer; never reuse a code for another meaning. */
export type StreamErrorCode =
  | 'SLUICE_INVALID_OPTION'
  | 'SLUICE_DECODE'
  | 'SLUICE_ENCODE'
  | 'SLUICE_PIPELINE_INCOMPLETE'
  | 'SLUICE_PIPELINE_RUNNING'
  | 'SLUICE_MODEL_MISMATCH'
  | 'SLUICE_CHECKPOINT';

/**
 * Base class of Sluice's errors: a stable `code` to match on, and a message that says what to do.
 *
 * @example
 * try { validate(opts) } catch (e) { if (e instanceof SluiceError && e.code === 'SLUICE_INVALID_OPTION') ... }
 */
export class SluiceError extends Error {
  constructor(
    readonly code: StreamErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
    this.name = 'SluiceError';
  }
}

/** A record could not be decoded or failed its schema; it goes to the dead-letter output. */
export class DecodeError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_DECODE', message);
    this.name = 'DecodeError';
  }
}

/** Throws SLUICE_INVALID_OPTION unless `ok`; used to validate options once, at construction. */
export function requireOption(ok: boolean, message: string): asserts ok {
  if (!ok) throw new SluiceError('SLUICE_INVALID_OPTION', message);
}
