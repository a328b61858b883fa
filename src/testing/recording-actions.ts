// An action target for tests: records what each action would have delivered, with its
// idempotency key, and dedupes on the key as Postgres or a webhook with Idempotency-Key does,
// so a replay after a restart shows up as a duplicate instead of a second effect.

import type { ActionEntry, ActionSink, DeliveryResult } from '../actions/index.js';

/**
 * An `ActionSink` that keeps every delivered action in memory.
 *
 * @example
 * const target = recordingActions();
 * pipeline('p').from(src).to(action({ name: 'alert', payload: (t) => t, to: target }));
 * // after the run: target.delivered[0].key === 'p/alert/input-0@0'
 */
export function recordingActions(): RecordingActions {
  return new RecordingActions();
}

/**
 * The action target {@link recordingActions} makes (and `t.actions` of a test driver is).
 *
 * @example
 * const target = new RecordingActions();
 * // after a replay: target.duplicates holds the actions whose keys were delivered before
 */
export class RecordingActions implements ActionSink {
  readonly name = 'recording';
  readonly dedupes = true;
  /** Actions that took effect, in order (key, action, payload, recordKey, eventTime). */
  readonly delivered: ActionEntry[] = [];
  /** Actions delivered again under a key already held (replays): skipped, as a deduping target does. */
  readonly duplicates: ActionEntry[] = [];
  private readonly keys = new Set<string>();

  async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
    let done = 0;
    for (const e of entries) {
      if (this.keys.has(e.key)) this.duplicates.push(e);
      else {
        this.keys.add(e.key);
        this.delivered.push(e);
        done++;
      }
    }
    return { done, duplicates: entries.length - done, rejected: [] };
  }
}
