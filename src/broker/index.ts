// Public surface of the Kafka protocol broker.

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
