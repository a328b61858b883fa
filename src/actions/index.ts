export { ActionLedger, type LedgerEntry } from './ledger.js';
export { action, idempotencyKey, type ActionOptions } from './action.js';
