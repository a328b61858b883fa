import type { Envelope } from './envelope.js';
import type { Sink, StageContext } from './interfaces.js';

/**
 * One sink that writes every batch to several sinks in turn (e.g. an alert action and an
 * audit topic). Stats are those of the first sink that has them.
 *
 * @example
 * stream.to(fanOut(action({ name: 'alert', ... }), collect()));
 */
export function fanOut<T>(...sinks: Sink<T>[]): Sink<T> {
  return {
    name: sinks.map((s) => s.name).join('+'),
    async open(ctx: StageContext) {
      for (const s of sinks) await s.open?.(ctx);
    },
    async write(records: Envelope<T>[], ctx: StageContext) {
      for (const s of sinks) await s.write(records, ctx);
    },
    async flush() {
      for (const s of sinks) await s.flush?.();
    },
    async close() {
      for (const s of sinks) await s.close?.();
    },
    stats() {
      for (const s of sinks) {
        const st = s.stats?.();
        if (st) return st;
      }
      return { done: 0, duplicates: 0 };
    },
  };
}
