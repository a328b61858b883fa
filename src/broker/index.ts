/**
 * `sluice/broker`: the Kafka wire protocol served over the embedded log (what `sluice broker`
 * runs): produce, fetch, consumer groups, SASL and TLS.
 *
 * @example
 * import { startBroker } from 'sluice/broker';
 * const broker = await startBroker({ port: 9092, dataDir: './data/broker' });
 * // any Kafka client: bootstrap servers 127.0.0.1:9092
 * await broker.close();
 */
export { startBroker, type RunningBroker } from './broker.js';
export { startBrokerHealth, type BrokerHealthOptions, type BrokerHealthServer } from './health-server.js';
export {
  saslUsersFromEnv,
  saslUsersFromFile,
  type BrokerOptions,
  type BrokerTlsOptions,
  type SaslOptions,
} from './options.js';
export { SASL_MECHANISMS, type SaslMechanism } from './sasl.js';
export { BrokerError, MalformedRequestError, BROKER_ERROR_CODES, type BrokerErrorCode } from './errors.js';
export {
  startSchemaRegistry,
  type RunningSchemaRegistry,
  type SchemaRegistryServerOptions,
} from './schema-registry/server.js';
export { REGISTRY_FILE, COMPATIBILITY_LEVELS, type CompatibilityLevel } from './schema-registry/store.js';
