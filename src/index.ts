/**
 * Sluice's public API: everything a pipeline author imports comes from here.
 *
 * @example
 * import { pipeline, json, lookback, count, mean, days, collect, fromArray } from 'sluice';
 */
export * from './stream/index.js';
export * from './observe/index.js';
export * from './actions/index.js';
export * from './connectors/index.js';
export * from './inference/index.js';
export * from './log/index.js';
export * from './broker/index.js';
