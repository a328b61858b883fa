// Public surface of the Kafka protocol broker.

export { startBroker, type RunningBroker } from './broker.js';
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
