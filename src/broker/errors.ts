// Errors of the Kafka broker. Codes are stable and never reused: callers switch on `code`.

/** Every code a {@link BrokerError} can carry. */
export const BROKER_ERROR_CODES = [
  'BROKER_INVALID_OPTION',
  'BROKER_MALFORMED_REQUEST',
  'BROKER_REQUEST_TOO_LARGE',
  'BROKER_UNSUPPORTED_REQUEST',
  'BROKER_LISTEN_FAILED',
  'BROKER_CLOSED',
] as const;

export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];

/**
 * An error raised by the Kafka broker. `code` is stable; the message says what to do.
 *
 * @example
 * try { await startBroker({ port: 9092, dataDir: './data' }) } catch (err) {
 *   if (err instanceof BrokerError && err.code === 'BROKER_LISTEN_FAILED') console.error(err.message);
 * }
 */
export class BrokerError extends Error {
  readonly code: BrokerErrorCode;

  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
    this.code = code;
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
    super('BROKER_MALFORMED_REQUEST', message);
    this.name = 'MalformedRequestError';
  }
}
