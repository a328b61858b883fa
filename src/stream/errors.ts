import { SluiceError } from '../core/errors.js';

// The error base and requireOption live in core (every layer's errors extend it); the stream
// layer re-exports them where its users have always found them.
export { SluiceError, requireOption, type SluiceErrorCode } from '../core/errors.js';

/** The codes the stream layer throws (a part of the one list in `core/errors.ts`). */
export type StreamErrorCode =
  | 'SLUICE_OPTION_INVALID'
  | 'SLUICE_DECODE_FAILED'
  | 'SLUICE_PIPELINE_MODEL_MISMATCH'
  | 'SLUICE_PIPELINE_EVENT_TIME'
  | 'SLUICE_PIPELINE_INFER_FAILED'
  | 'SLUICE_STATE_UNREADABLE'
  | 'SLUICE_ENCODE_FAILED';

/**
 * A record could not be decoded or failed its schema; it goes to the dead-letter output.
 *
 * @example
 * if (e instanceof DecodeError) console.warn('bad record:', e.message);
 */
export class DecodeError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_DECODE_FAILED', message);
    this.name = 'DecodeError';
  }
}
