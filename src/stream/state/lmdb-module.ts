import { createRequire } from 'node:module';
import type * as Lmdb from 'lmdb';

const require = createRequire(import.meta.url);
let lmdb: typeof Lmdb | undefined;

/**
 * The lmdb package, loaded on the first store opened rather than with `sluice`: a pipeline that
 * keeps its state in memory never loads the native addon. Loaded with require (lmdb ships a
 * CommonJS build) so that opening a store stays synchronous. Every use of lmdb in Sluice goes
 * through here, so one copy of the module is loaded.
 */
export function loadLmdb(): typeof Lmdb {
  return (lmdb ??= require('lmdb') as typeof Lmdb);
}
