import { ActionLedger } from './ledger.js';
import { ledgerEntry, type ActionEntry, type ActionSink, type DeliveryResult } from './sink.js';

/**
 * Appends actions to a JSON-lines file, one `{key, action, payload, time}` object per line (the
 * ledger format): the file is its own dedup ledger, so it holds each action once. Lines are
 * fsynced before every checkpoint.
 *
 * @example
 * stream.to(action({ name: 'alert', payload: (t) => t, to: fileActionSink({ path: './out/alerts.jsonl' }) }));
 */
export function fileActionSink(opts: { path: string }): ActionSink {
  let ledger: ActionLedger | undefined;
  return {
    name: `file:${opts.path}`,
    dedupes: true,
    async open() {
      ledger = ActionLedger.open(opts.path);
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const done = ledger!.record(entries.map(ledgerEntry)).length;
      return { done, duplicates: entries.length - done, rejected: [] };
    },
    flush() {
      ledger?.flush();
    },
    async close() {
      ledger?.close();
    },
  };
}
