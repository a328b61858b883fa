/**
 * Where the interactions come from: the latent-factor generator (paced or as fast as the
 * pipeline reads), or a CSV file of `user_id,item_id,rating,timestamp` (MovieLens' header
 * `userId,movieId,rating,timestamp` is read too; timestamps in epoch seconds or ms). Both give
 * JSON records `{ user, item, rating, ts }` with the event time set.
 */
import { SluiceError, envelope, fileSource, offsetKey, type Envelope, type Source } from '../../index.js';
import { csvHeader } from '../../connectors/index.js';
import { wallClockMs } from '../../observe/index.js';
import { InteractionGenerator, type InteractionGeneratorOptions } from './generator.js';

export const INTERACTION_SCHEMA = {
  user: 'integer',
  item: 'integer',
  rating: 'number',
  ts: 'number',
} as const;

/** The generator as a bounded source of `events` records, at `rate` per second when given. */
export function generatorSource(
  opts: InteractionGeneratorOptions & { events: number; rate?: number },
): Source<Buffer> {
  const topic = 'interactions';
  let gen: InteractionGenerator;
  let next = 0;
  let started = 0;
  return {
    name: 'generator:interactions',
    async open(ctx) {
      gen = new InteractionGenerator(opts);
      const skip = ctx.startOffsets?.[offsetKey(topic, 0)] ?? 0;
      for (; next < skip; next++) gen.next();
      started = performance.now();
    },
    async poll(max) {
      if (next >= opts.events) return null;
      let n = Math.min(max, opts.events - next);
      if (opts.rate) {
        const due = Math.floor(((performance.now() - started) / 1000) * opts.rate) - next;
        if (due <= 0) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return [];
        }
        n = Math.min(n, due);
      }
      const now = wallClockMs();
      const stamps = [now];
      const out: Envelope<Buffer>[] = [];
      for (let i = 0; i < n; i++) {
        const e = gen.next();
        const env = envelope(Buffer.from(JSON.stringify(e)), topic, 0, next++, now, stamps);
        env.eventTime = e.ts;
        out.push(env);
      }
      return out;
    },
    positions: () => ({ [offsetKey(topic, 0)]: next }),
    lag: () => Math.max(0, opts.events - next),
    async close() {},
  };
}

const ALIASES = {
  user: ['user_id', 'userId', 'user'],
  item: ['item_id', 'movieId', 'itemId', 'item'],
  rating: ['rating'],
  timestamp: ['timestamp', 'ts'],
};

/** A CSV file of interactions as a source; rows that do not convert go on as they are (and dead-letter). */
export function interactionsCsvSource(opts: { path: string; rate?: number }): Source<Buffer> {
  const inner = fileSource({ path: opts.path, format: 'csv', rate: opts.rate, topic: 'interactions-csv' });
  let cols: Record<keyof typeof ALIASES, string | undefined>;
  return {
    ...inner,
    name: `interactions-csv:${opts.path}`,
    async open(ctx) {
      await inner.open(ctx);
      const h = csvHeader(opts.path);
      const find = (names: string[]) => names.find((n) => h.includes(n));
      cols = {
        user: find(ALIASES.user),
        item: find(ALIASES.item),
        rating: find(ALIASES.rating),
        timestamp: find(ALIASES.timestamp),
      };
      if (!cols.user || !cols.item || !cols.timestamp)
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `${opts.path}: the header needs user_id, item_id and timestamp columns (rating optional; MovieLens' userId,movieId also work), got ${h.join(',')}`,
        );
    },
    async poll(max) {
      const records = await inner.poll(max);
      if (records === null) return null;
      for (const env of records) {
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(env.value.toString('utf8')) as Record<string, unknown>;
        } catch {
          continue;
        }
        const t = Number(row[cols.timestamp!]);
        const ts = t < 1e11 ? t * 1000 : t;
        const rating = cols.rating ? Number(row[cols.rating] ?? 1) : 1;
        const e = { user: row[cols.user!], item: row[cols.item!], rating, ts };
        if (!Number.isInteger(e.user) || !Number.isInteger(e.item) || !Number.isFinite(ts)) continue;
        env.value = Buffer.from(JSON.stringify(e));
        env.eventTime = ts;
      }
      return records;
    },
  };
}
