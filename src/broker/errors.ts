// Errors of the Kafka broker. Codes are stable and never reused: callers switch on `code`.
import { ERROR_CODES, SluiceError, type SluiceErrorCode, type SluiceErrorOptions } from '../core/errors.js';

/** Every code a {@link BrokerError} can carry (its part of the one list in `core/errors.ts`). */
export const BROKER_ERROR_CODES = Object.keys(ERROR_CODES).filter((c) =>
  c.startsWith('SLUICE_BROKER_'),
) as readonly BrokerErrorCode[];

export type BrokerErrorCode = Extract<SluiceErrorCode, `SLUICE_BROKER_${string}`>;

/**
 * An error raised by the Kafka broker. `code` is stable; the message says what to do.
 *
 * @example
 * try { await startBroker({ port: 9092, dataDir: './data' }) } catch (err) {
 *   if (err instanceof BrokerError && err.code === 'SLUICE_BROKER_LISTEN_FAILED') console.error(err.message);
 * }
 */
export class BrokerError extends SluiceError {
  declare readonly code: BrokerErrorCode;

  constructor(code: BrokerErrorCode, message: string, options?: SluiceErrorOptions) {
    super(code, message, options);
    this.name = 'BrokerError';
  }
}

/**
 * A request that does not follow the Kafka protocol; the broker closes its connection.
 *
 * @example
 * try { new Reader(frame).string() } catch (err) { if (err instanceof MalformedRequestError) socket.destroy(); }
 */
export class MalformedRequestError extends BrokerError {
  constructor(message: string) {
    super('SLUICE_BROKER_MALFORMED_REQUEST', message);
    this.name = 'MalformedRequestError';
  }
}
