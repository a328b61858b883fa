import {
  recordId,
  requireOption,
  type DeadLetter,
  type DeadLetterSink,
  type Envelope,
  type Sink,
  type StageContext,
} from '../stream/index.js';
import { ActionError } from './errors.js';
import type { ActionLedger, LedgerEntry } from './ledger.js';
import { ledgerEntry, type ActionEntry, type ActionSink } from './sink.js';

export interface ActionOptions<T> {
  /** Action name; part of every idempotency key. */
  name: string;
  /**
   * The dedup ledger: keys it holds are skipped before delivery. Required unless `to` dedupes
   * by itself (Postgres, webhooks, topics); still useful there to avoid re-sending on replay.
   */
  ledger?: ActionLedger;
  /** Which records trigger the action; default: all. */
  when?: (value: T, env: Envelope<T>) => boolean;
  /** The action's content (must be JSON-serialisable and deterministic for a given record). */
  payload: (value: T, env: Envelope<T>) => unknown;
  /**
   * Performs the outside effect for new actions (a webhook, a write...) before they are
   * recorded; it receives only actions never done before. Default: the ledger is the effect.
   * With `to`, it runs after the sink, with the actions the sink took (e.g. to show them live).
   */
  deliver?: (entries: LedgerEntry[]) => Promise<void>;
  /** Where the effects go (`postgresActionSink`, `webhookActionSink`, `actionSinkFromUrl(...)`...). */
  to?: ActionSink;
  /**
   * Receives actions the sink refused for good (e.g. a webhook's 4xx) with the reason. Without
   * it a refusal fails the pipeline (ActionError SLUICE_ACTION_REJECTED). Pass the pipeline's
   * dead-letter sink here too so they land in one place.
   */
  deadLetters?: DeadLetterSink;
}

/** The idempotency key of an action on a record: (pipeline, action, record id). */
export function idempotencyKey(pipeline: string, action: string, env: Envelope): string {
  return `${pipeline}/${action}/${recordId(env)}`;
}

/**
 * A sink that turns records into idempotent actions: each gets a deterministic key, and the
 * ledger (or a sink that dedupes on the key) makes sure a key takes effect once, however often
 * the record is replayed.
 *
 * @example
 * const alerts = action({ name: 'alert', ledger, when: (t) => t.score > 0.9, payload: (t) => ({ tx: t.id, score: t.score }) });
 * pipeline('fraud').from(src).decode(dec).to(alerts);
 * // or straight into Postgres, deduplicated by the table's primary key:
 * pipeline('fraud').from(src).decode(dec).to(action({ name: 'alert', payload: (t) => t, to: postgresActionSink({ url }) }));
 */
export function action<T>(opts: ActionOptions<T>): Sink<T> {
  const { name, ledger, to } = opts;
  requireOption(
    /^[A-Za-z0-9._-]+$/.test(name),
    `action name "${name}" must be letters, digits, ".", "_" or "-"`,
  );
  requireOption(
    ledger !== undefined || to !== undefined,
    `action "${name}" needs a ledger (ActionLedger.open(path)) or a sink (to: postgresActionSink(...), webhookActionSink(...), ...)`,
  );
  requireOption(
    ledger !== undefined || to!.dedupes,
    `action "${name}": ${to?.name} cannot deduplicate by itself; give the action a ledger (ActionLedger.open(path)) for exactly-once effects`,
  );
  let done = 0;
  let duplicates = 0;

  const toSink = async (entries: ActionEntry[], env: Map<string, Envelope<T>>): Promise<void> => {
    const r = await to!.deliver(entries);
    duplicates += r.duplicates;
    done += r.done;
    const refused = new Set(r.rejected.map((x) => x.entry.key));
    if (r.rejected.length > 0) {
      if (!opts.deadLetters) {
        const first = r.rejected[0]!;
        throw new ActionError(
          'SLUICE_ACTION_REJECTED',
          `action "${name}": ${to!.name} refused ${r.rejected.length} action(s), e.g. ${first.entry.key}: ${first.reason}; fix the receiver or give the action a deadLetters sink`,
        );
      }
      const now = Date.now();
      const letters: DeadLetter[] = r.rejected.map((x) => {
        const e = env.get(x.entry.key)!;
        return {
          stage: `action:${name}`,
          reason: x.reason,
          original: { key: x.entry.key, action: name, payload: x.entry.payload },
          topic: e.topic,
          partition: e.partition,
          offset: e.offset,
          time: now,
        };
      });
      await opts.deadLetters.write(letters);
    }
    const taken = refused.size > 0 ? entries.filter((e) => !refused.has(e.key)) : entries;
    if (opts.deliver && taken.length > 0) await opts.deliver(taken.map(ledgerEntry));
    // Deliver first, then record: a crash in between replays into the sink, which dedupes.
    ledger?.record(taken.map(ledgerEntry));
  };

  return {
    name: `action:${name}`,
    async open(ctx: StageContext) {
      await to?.open?.(ctx);
    },
    async write(records: Envelope<T>[], ctx: StageContext) {
      const entries: ActionEntry[] = [];
      const byKey = new Map<string, Envelope<T>>();
      const now = Date.now();
      for (const env of records) {
        if (opts.when && !opts.when(env.value, env)) continue;
        const key = idempotencyKey(ctx.pipeline, name, env);
        if (ledger?.has(key)) {
          duplicates++;
          continue;
        }
        const payload = opts.payload(env.value, env);
        if (to) {
          entries.push({
            key,
            action: name,
            payload,
            time: now,
            recordKey: env.key,
            eventTime: env.eventTime,
            traceparent: env.trace?.traceparent ?? env.traceparent,
          });
          byKey.set(key, env);
        } else entries.push({ key, action: name, payload, time: now } as ActionEntry);
      }
      if (entries.length === 0) return;
      if (to) return toSink(entries, byKey);
      if (opts.deliver) await opts.deliver(entries);
      done += ledger!.record(entries).length;
    },
    async flush() {
      await to?.flush?.();
      ledger?.flush();
      await opts.deadLetters?.flush?.();
    },
    async close() {
      await to?.close?.();
    },
    stats() {
      return { done, duplicates };
    },
  };
}
