import type { Redis } from 'ioredis';
import { wallClockMs } from '../observe/index.js';
import {
  envelope,
  offsetKey,
  requireOption,
  type Envelope,
  type Source,
  type SourceContext,
  type SourceOffsets,
} from '../stream/index.js';
import { ConnectorError, hostOf } from './errors.js';
import { autoClaim, groupLag, idOffset, readGroup, type StreamEntry } from './redis-entries.js';
import { redactUrls } from '../core/redact.js';

export interface RedisSourceOptions {
  /** redis://[user:password@]host:6379[/db] */
  url: string;
  stream: string;
  /** Consumer group. Default sluice-<pipeline>. */
  group?: string;
  /** This instance's consumer name; keep it stable across restarts. Default "main". */
  consumer?: string;
  /** The entry field holding the record value. Default "value". */
  field?: string;
  /** An entry field holding the record key. */
  keyField?: string;
  /** Where a new group starts: '0' (the whole stream, default) or '$' (new entries only). */
  startAt?: '0' | '$';
  /** Entries idle this long in another consumer's pending list are claimed (XAUTOCLAIM). Default 30 s. */
  claimIdleMs?: number;
  /** How long a read blocks waiting for entries. Default 50 ms. */
  blockMs?: number;
  /** Ends the stream when it returns true and nothing is waiting (tests, bounded runs). */
  endWhen?: () => boolean;
}

interface Delivered {
  id: string;
  index: number;
}

/**
 * Reads a Redis stream as a consumer group member. Entries are XACKed only after the checkpoint
 * that covers them is saved; pending entries of dead consumers are reclaimed with XAUTOCLAIM.
 * Each entry handed to the pipeline gets a delivery number (the source's offset), noted in a
 * hash beside the stream before the entry is processed: after a crash, pending entries numbered
 * below the checkpoint are acked without processing, the others replayed, so replay is exact.
 * Record ids are the entry ids, so actions dedupe across redeliveries.
 *
 * @example
 * const source = redisSource({ url: 'redis://127.0.0.1:6379', stream: 'events' });
 * pipeline('events').from(source).decode(json(schema))...
 */
export function redisSource(opts: RedisSourceOptions): Source<Buffer | null> {
  requireOption(
    /^rediss?:\/\//.test(opts.url),
    `redisSource: "${redactUrls(opts.url)}" is not a redis:// URL`,
  );
  requireOption(typeof opts.stream === 'string' && opts.stream !== '', 'redisSource: stream is required');
  const { stream } = opts;
  const key = offsetKey(stream, 0);
  const field = opts.field ?? 'value';
  const consumer = opts.consumer ?? 'main';
  const blockMs = opts.blockMs ?? 50;
  const claimIdleMs = opts.claimIdleMs ?? 30_000;
  let group = opts.group ?? '';
  let marks = '';
  let cmd: Redis | undefined;
  let reader: Redis | undefined;
  const replay: StreamEntry[] = [];
  const unacked: Delivered[] = [];
  /** Ids in `unacked`: XAUTOCLAIM also returns our own entries when a checkpoint is slow. */
  const inFlight = new Set<string>();
  let counter = 0;
  let lag = 0;
  let claimCursor = '0-0';
  let nextClaimAt = 0;
  let lagTimer: NodeJS.Timeout | undefined;

  const fail = (err: unknown): never => {
    throw new ConnectorError(
      'SLUICE_SOURCE_UNAVAILABLE',
      `redisSource ${hostOf(opts.url)} ${stream}: ${(err as Error).message}; is Redis (>= 6.2) running? check the URL`,
      { cause: err },
    );
  };

  /** Our pending entries, and which of them the checkpoint already covers. */
  const recover = async (checkpoint: number) => {
    const pending: StreamEntry[] = [];
    for (let cursor = '0'; ;) {
      const page = await readGroup(cmd!, stream, group, consumer, cursor, 1000);
      if (page.length === 0) break;
      pending.push(...page);
      cursor = page[page.length - 1]!.id;
    }
    if (pending.length === 0) return;
    const numbers = await cmd!.hmget(marks, ...pending.map((e) => e.id));
    const done: string[] = [];
    pending.forEach((e, i) => {
      const n = numbers[i] === null ? undefined : Number(numbers[i]);
      if (e.fields === null || (n !== undefined && n < checkpoint)) done.push(e.id);
      else replay.push(e);
    });
    for (let i = 0; i < done.length; i += 1000) await cmd!.xack(stream, group, ...done.slice(i, i + 1000));
  };

  const refreshLag = () =>
    groupLag(cmd!, stream, group)
      .then((n) => (lag = n))
      .catch(() => {});

  return {
    name: `redis:${stream}`,
    sharesStamps: true,
    async open(ctx: SourceContext) {
      group ||= `sluice-${ctx.pipeline}`;
      marks = `${stream}:sluice:${group}:${consumer}:delivered`;
      try {
        const { Redis } = await import('ioredis'); // loaded on first use, not with `sluice`
        cmd = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
        await cmd.connect();
        reader = cmd.duplicate(); // blocking reads get their own connection
        await cmd.xgroup('CREATE', stream, group, opts.startAt ?? '0', 'MKSTREAM').catch((e: Error) => {
          if (!/BUSYGROUP/.test(e.message)) throw e;
        });
        counter = ctx.startOffsets?.[key] ?? 0;
        await recover(counter);
        await cmd.del(marks); // entries replayed get new numbers; leftovers of acked ones go
        await refreshLag();
      } catch (err) {
        cmd?.disconnect();
        reader?.disconnect();
        fail(err);
      }
      lagTimer = setInterval(refreshLag, 1000);
      lagTimer.unref();
    },
    async poll(max: number): Promise<Envelope<Buffer | null>[] | null> {
      let entries: StreamEntry[];
      try {
        if (replay.length > 0) entries = replay.splice(0, max);
        else {
          entries = [];
          if (Date.now() >= nextClaimAt) {
            const c = await autoClaim(cmd!, stream, group, consumer, claimIdleMs, claimCursor, max);
            entries = c.entries.filter((e) => !inFlight.has(e.id));
            claimCursor = c.cursor;
            if (claimCursor === '0-0') nextClaimAt = Date.now() + Math.max(1000, claimIdleMs / 4);
          }
          if (entries.length === 0)
            entries = await readGroup(reader!, stream, group, consumer, '>', max, blockMs);
        }
        if (entries.length === 0) return opts.endWhen?.() && replay.length === 0 ? null : [];
        // Note each entry's delivery number before the pipeline sees it: recovery reads them back.
        const args: (string | number)[] = [];
        for (const e of entries) {
          unacked.push({ id: e.id, index: counter });
          inFlight.add(e.id);
          args.push(e.id, counter++);
        }
        await cmd!.hset(marks, ...args);
      } catch (err) {
        return fail(err);
      }
      const stamps = [wallClockMs()];
      return entries.map((e) => {
        const env = envelope(
          e.fields?.get(field) ?? null,
          stream,
          0,
          idOffset(e.id),
          Number(e.id.split('-')[0]),
          stamps,
        );
        env.id = `${stream}-0@${e.id}`;
        const k = opts.keyField ? e.fields?.get(opts.keyField) : undefined;
        if (k) env.key = k.toString();
        return env;
      });
    },
    positions(): SourceOffsets {
      return { [key]: counter };
    },
    lag() {
      return lag + replay.length;
    },
    async commit(offsets: SourceOffsets) {
      const upTo = offsets[key];
      if (upTo === undefined) return;
      let n = 0;
      while (n < unacked.length && unacked[n]!.index < upTo) n++;
      if (n === 0) return;
      const ids = unacked.splice(0, n).map((d) => d.id);
      for (const id of ids) inFlight.delete(id);
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        await cmd!.xack(stream, group, ...chunk); // ack first: a crash before HDEL only leaves a mark
        await cmd!.hdel(marks, ...chunk);
      }
    },
    async close() {
      clearInterval(lagTimer);
      reader?.disconnect();
      await cmd?.quit().catch(() => {});
    },
  };
}
