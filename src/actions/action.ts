import { recordId, requireOption, type Envelope, type Sink, type StageContext } from '../stream/index.js';
import type { ActionLedger, LedgerEntry } from './ledger.js';

export interface ActionOptions<T> {
  /** Action name; part of every idempotency key. */
  name: string;
  ledger: ActionLedger;
  /** Which records trigger the action; default: all. */
  when?: (value: T) => boolean;
  /** The action's content (must be JSON-serialisable and deterministic for a given record). */
  payload: (value: T) => unknown;
  /**
   * Performs the outside effect for new actions (a webhook, a write...) before they are
   * recorded; it receives only actions never done before. Default: the ledger is the effect.
   */
  deliver?: (entries: LedgerEntry[]) => Promise<void>;
}

/** The idempotency key of an action on a record: (pipeline, action, record id). */
export function idempotencyKey(pipeline: string, action: string, env: Envelope): string {
  return `${pipeline}/${action}/${recordId(env)}`;
}

/**
 * A sink that turns records into idempotent actions: each gets a deterministic key, and the
 * ledger makes sure a key takes effect once, however often the record is replayed.
 *
 * @example
 * const alerts = action({ name: 'alert', ledger, when: (t) => t.score > 0.9, payload: (t) => ({ tx: t.id, score: t.score }) });
 * pipeline('fraud').from(src).decode(dec).to(alerts);
 */
export function action<T>(opts: ActionOptions<T>): Sink<T> {
  requireOption(
    /^[A-Za-z0-9._-]+$/.test(opts.name),
    `action name "${opts.name}" must be letters, digits, ".", "_" or "-"`,
  );
  let done = 0;
  let duplicates = 0;
  return {
    name: `action:${opts.name}`,
    async write(records: Envelope<T>[], ctx: StageContext) {
      const entries: LedgerEntry[] = [];
      const now = Date.now();
      for (const env of records) {
        if (opts.when && !opts.when(env.value)) continue;
        const key = idempotencyKey(ctx.pipeline, opts.name, env);
        if (opts.ledger.has(key)) {
          duplicates++;
          continue;
        }
        entries.push({ key, action: opts.name, payload: opts.payload(env.value), time: now });
      }
      if (entries.length === 0) return;
      if (opts.deliver) await opts.deliver(entries);
      done += opts.ledger.record(entries).length;
    },
    flush() {
      opts.ledger.flush();
    },
    stats() {
      return { done, duplicates };
    },
  };
}
