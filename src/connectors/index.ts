export { logSource, type LogSourceOptions } from './log-source.js';
export { logDeadLetters, DLQ_HEADERS } from './log-dead-letters.js';
