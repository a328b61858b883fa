// Public surface of the Kafka protocol broker.

export { startBroker, type RunningBroker } from './broker.js';
export { saslUsersFromEnv, type BrokerOptions, type SaslOptions } from './options.js';
export { BrokerError, MalformedRequestError, BROKER_ERROR_CODES, type BrokerErrorCode } from './errors.js';
