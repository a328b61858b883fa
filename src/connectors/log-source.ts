import type { Log } from '../log/index.js';
import { traceparentOfHeaders } from './trace-header.js';
import type { LogRecord } from '../log/index.js';
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
import { deadLetterKey, signedReplay } from './dlq-auth.js';

export interface LogSourceOptions {
  log: Log;
  topic: string;
  /** Partitions to read; default all of the topic's. */
  partitions?: number[];
  /**
   * When to end: 'never' (follow the log forever, the default), 'caught-up' (end once every
   * partition is read to its end), or a function asked whenever the source is caught up.
   */
  endWhen?: 'never' | 'caught-up' | (() => boolean);
  /** Where to start without a checkpoint: 'earliest' (default) or 'latest'. */
  startAt?: 'earliest' | 'latest';
  /** Bytes read from a partition at a time; default 1 MiB. */
  readBytes?: number;
  /** How long a poll waits for new records when caught up; default 2 ms. */
  idleWaitMs?: number;
}

/**
 * Reads a topic of the embedded log in-process (no network hop): partitions round-robin,
 * values as zero-copy Buffers, resuming from checkpointed offsets. A record that
 * `sluice dlq replay` appended carries the id of the record it replays (signed
 * `sluice.record-id` header), so its actions keep their idempotency keys.
 *
 * @example
 * const source = logSource({ log: Log.open('./data/log'), topic: 'transactions', endWhen: 'caught-up' });
 * pipeline('fraud').from(source).decode(json(schema))...
 */
export function logSource(opts: LogSourceOptions): Source<Buffer | null> {
  const { log, topic } = opts;
  requireOption(
    log.hasTopic(topic),
    `logSource: topic "${topic}" does not exist in the log at ${log.dir}; create it first (log.createTopic)`,
  );
  const partitions = opts.partitions ?? [...Array(log.partitionCount(topic)).keys()];
  const readBytes = opts.readBytes ?? 1024 * 1024;
  const idleWaitMs = opts.idleWaitMs ?? 2;
  const endWhen = opts.endWhen ?? 'never';
  const next = new Map<number, number>();
  /** Records read from a partition but not yet handed out (a read returns whole batches). */
  const pending = new Map<number, { records: LogRecord[]; at: number }>();
  let turn = 0;
  let key: Buffer | undefined;
  const replayKey = () => (key ??= deadLetterKey(log.dir));

  const caughtUp = () =>
    partitions.every((p) => next.get(p)! >= log.partition(topic, p).highWatermark && !pending.get(p));

  return {
    name: `log:${topic}`,
    sharesStamps: true,
    async open(ctx: SourceContext) {
      for (const p of partitions) {
        const part = log.partition(topic, p);
        const saved = ctx.startOffsets?.[offsetKey(topic, p)];
        const start = saved ?? (opts.startAt === 'latest' ? part.highWatermark : part.logStartOffset);
        next.set(p, Math.max(start, part.logStartOffset));
      }
    },
    async poll(max: number): Promise<Envelope<Buffer | null>[] | null> {
      const out: Envelope<Buffer | null>[] = [];
      const stamps = [wallClockMs()];
      for (let tries = 0; tries < partitions.length && out.length < max; tries++) {
        const p = partitions[turn]!;
        turn = (turn + 1) % partitions.length;
        let buf = pending.get(p);
        if (!buf) {
          const part = log.partition(topic, p);
          const offset = next.get(p)!;
          if (offset >= part.highWatermark) continue;
          const { records, nextOffset } = part.read(offset, readBytes);
          if (records.length === 0) {
            // Only empty batches (offsets set aside by "sluice log check --repair"): step over them.
            next.set(p, nextOffset);
            continue;
          }
          buf = { records, at: 0 };
          pending.set(p, buf);
        }
        const take = Math.min(max - out.length, buf.records.length - buf.at);
        for (let i = 0; i < take; i++) {
          const r = buf.records[buf.at + i]!;
          const env = envelope(r.value, topic, p, r.offset, r.timestamp, stamps);
          // A record replayed from the dead letters keeps the id (so the idempotency keys) of
          // the record it replays, when Sluice signed it: a replay never causes a second effect.
          if (r.headers.length > 0) {
            const replay = signedReplay(replayKey, r.value, r.headers);
            if (replay !== undefined) env.id = replay.id;
            const traceparent = traceparentOfHeaders(r.headers);
            if (traceparent !== undefined) env.traceparent = traceparent;
          }
          out.push(env);
        }
        buf.at += take;
        next.set(p, buf.records[buf.at - 1]!.offset + 1);
        if (buf.at >= buf.records.length) pending.delete(p);
      }
      if (out.length > 0) return out;
      if (
        caughtUp() &&
        (endWhen === 'caught-up' || (typeof endWhen === 'function' && endWhen() && caughtUp()))
      )
        return null;
      await new Promise((resolve) => setTimeout(resolve, idleWaitMs));
      return out;
    },
    positions(): SourceOffsets {
      const o: SourceOffsets = {};
      for (const p of partitions) o[offsetKey(topic, p)] = next.get(p)!;
      return o;
    },
    lag() {
      let lag = 0;
      for (const p of partitions) lag += Math.max(0, log.partition(topic, p).highWatermark - next.get(p)!);
      return lag;
    },
    lagByPartition() {
      const out: Record<string, number> = {};
      for (const p of partitions)
        out[offsetKey(topic, p)] = Math.max(0, log.partition(topic, p).highWatermark - next.get(p)!);
      return out;
    },
    async close() {
      pending.clear();
    },
  };
}
