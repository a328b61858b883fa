import { SluiceError } from './errors.js';

/**
 * Turns values into record bytes for a sink that writes records (a topic, a Kafka topic):
 * Avro, Protobuf or JSON Schema in the Confluent wire format, for instance. `open` runs once,
 * before the first record, with the topic written to (a registry encoder registers or looks up
 * its writer schema there); `encode` is synchronous and throws EncodeError for a value that does
 * not fit, which the sink turns into a dead letter with that reason.
 *
 * @example
 * const upper: Encoder<string> = { name: 'upper', encode: (s) => Buffer.from(s.toUpperCase()) };
 * kafkaSink({ brokers: '127.0.0.1:9092', topic: 'alerts', encode: upper });
 */
export interface Encoder<T = unknown> {
  readonly name: string;
  open?(topic: string): Promise<void>;
  encode(value: T): Buffer;
}

/** A value an encoder cannot write (it does not match the schema): a dead letter, never a crash. */
export class EncodeError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_ENCODE_FAILED', message);
    this.name = 'EncodeError';
  }
}
