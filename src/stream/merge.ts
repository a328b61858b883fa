import type { Envelope } from './envelope.js';
import { requireOption } from './errors.js';
import type { Source, SourceContext, SourceOffsets } from './interfaces.js';

/**
 * One source reading several (e.g. two topics for a stream-stream join), in turn. Offsets stay
 * per topic/partition, so checkpoints resume each input where it was. Ends when all have ended.
 *
 * @example
 * pipeline('joined').from(mergeSources(logSource({ log, topic: 'clicks' }), logSource({ log, topic: 'orders' })))
 */
export function mergeSources<T>(...sources: Source<T>[]): Source<T> {
  requireOption(sources.length > 0, 'mergeSources: give at least one source');
  const ended = new Set<number>();
  let turn = 0;
  return {
    name: sources.map((s) => s.name).join('+'),
    async open(ctx: SourceContext) {
      for (const s of sources) await s.open(ctx);
    },
    async poll(max: number): Promise<Envelope<T>[] | null> {
      for (let tries = 0; tries < sources.length; tries++) {
        const i = turn;
        turn = (turn + 1) % sources.length;
        if (ended.has(i)) continue;
        const recs = await sources[i]!.poll(max);
        if (recs === null) ended.add(i);
        else if (recs.length > 0) return recs;
      }
      return ended.size === sources.length ? null : [];
    },
    positions(): SourceOffsets {
      return Object.assign({}, ...sources.map((s) => s.positions())) as SourceOffsets;
    },
    lag() {
      return sources.reduce((n, s) => n + s.lag(), 0);
    },
    async commit(offsets: SourceOffsets) {
      for (const s of sources) await s.commit?.(offsets);
    },
    async close() {
      for (const s of sources) await s.close();
    },
  };
}
