import { SluiceError } from '../core/errors.js';

/** Stable codes of the action layer's errors; a code is never reused for another meaning. */
export type ActionErrorCode =
  /** The target refused an action for good (an HTTP 4xx) and no dead-letter sink was given. */
  | 'SLUICE_ACTION_REJECTED'
  /** The target stayed unreachable or failing (5xx, timeouts, connection errors) after every retry. */
  | 'SLUICE_ACTION_UNAVAILABLE'
  /** The target failed in a way retrying will not fix (permissions, a table of another shape...). */
  | 'SLUICE_ACTION_FAILED'
  /** A sink URL that cannot be parsed or names an unsupported scheme. */
  | 'SLUICE_SINK_URL'
  /** A secret the sink needs is missing from the environment. */
  | 'SLUICE_SINK_SECRET';

/**
 * An error of an action sink: `code` says what happened, the message what to do, and
 * `retryable` whether running again later may succeed (the pipeline resumes from its checkpoint).
 *
 * @example
 * try { await run.done } catch (e) { if (e instanceof ActionError && e.retryable) scheduleRestart() }
 */
export class ActionError extends SluiceError {
  declare readonly code: ActionErrorCode;
  constructor(
    code: ActionErrorCode,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ActionError';
  }
}
