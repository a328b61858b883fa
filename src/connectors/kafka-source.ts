// A Source over a Kafka topic (any Kafka-compatible broker, including `sluice broker`), as a
// consumer group member with @platformatic/kafka. The pipeline's checkpoint is the truth for
// where to resume; committed offsets follow it (commit() runs after each checkpoint) so other
// tools see the group's progress, and a run without a checkpoint resumes from them.

import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
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

export interface KafkaSourceOptions {
  /** Bootstrap servers, e.g. '127.0.0.1:9092' or ['host1:9092', 'host2:9092']. */
  brokers: string | string[];
  topic: string;
  /** Consumer group: members split the topic's partitions. */
  groupId: string;
  clientId?: string;
  /** Where to start on partitions with neither a checkpoint nor a committed offset. Default 'earliest'. */
  startAt?: 'earliest' | 'latest';
  /** 'never' (default), 'caught-up' (end once the assigned partitions are read to their end), or a predicate asked when caught up. */
  endWhen?: 'never' | 'caught-up' | (() => boolean);
  /** SASL/PLAIN credentials. */
  sasl?: { username: string; password: string };
  /** Longest a fetch waits on the broker for new records. Default 200 ms. */
  maxWaitMs?: number;
  /** Group session timeout. Default 10 s. */
  sessionTimeoutMs?: number;
  /** How often lag() is refreshed from the broker's high watermarks. Default 1000 ms. */
  lagRefreshMs?: number;
  /** Receives commit and lag-refresh failures (the next checkpoint retries the commit). Default console.warn. */
  onWarning?: (message: string) => void;
}

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** Records buffered from the stream before it is paused (memory stays bounded). */
const HIGH_WATER = 16_384;

/**
 * Reads a Kafka topic as a consumer group member: records come out as Buffers with their
 * topic/partition/offset, offsets are committed after each checkpoint.
 *
 * @example
 * const source = kafkaSource({ brokers: '127.0.0.1:9092', topic: 'transactions', groupId: 'fraud' });
 * pipeline('fraud').from(source).decode(json(schema))...
 */
export function kafkaSource(
  opts: KafkaSourceOptions,
): Source<Buffer | null> & { lagByPartition(): Record<string, number> } {
  const brokers = typeof opts.brokers === 'string' ? opts.brokers.split(',') : opts.brokers;
  requireOption(
    brokers.length > 0 && brokers.every((b) => /^[^:]+:\d+$/.test(b.trim())),
    'kafkaSource: brokers must be "host:port" entries, e.g. "127.0.0.1:9092"',
  );
  requireOption(typeof opts.topic === 'string' && opts.topic !== '', 'kafkaSource: topic is required');
  requireOption(typeof opts.groupId === 'string' && opts.groupId !== '', 'kafkaSource: groupId is required');
  const { topic } = opts;
  const endWhen = opts.endWhen ?? 'never';
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  const next = new Map<number, number>(); // partition -> next offset after what poll returned
  let latest: bigint[] = [];
  let earliest: bigint[] = [];
  let consumer: Consumer | undefined;
  let stream: Stream | undefined;
  let failure: unknown;
  let ended = false;
  let closing = false;
  let lagTimer: NodeJS.Timeout | undefined;
  // The stream runs in flowing mode (it only fetches while someone listens) into this buffer,
  // and is paused while the buffer is full.
  let buffer: Message[] = [];
  let head = 0;
  let wake: (() => void) | undefined;

  const refreshOffsets = async () => {
    if (consumer === undefined) return;
    const [hi, lo] = await Promise.all([
      consumer.listOffsets({ topics: [topic] }),
      consumer.listOffsets({ topics: [topic], timestamp: -2n }),
    ]);
    latest = hi.get(topic) ?? [];
    earliest = lo.get(topic) ?? [];
  };
  /** Partitions this member reads, when the group has assigned them. */
  const assigned = (): number[] | undefined =>
    consumer?.assignments?.find((a) => a.topic === topic)?.partitions;
  // Where this member is in a partition: after what it returned, else where its stream starts
  // fetching (the committed offset), else the log start.
  const positionOf = (p: number) =>
    next.get(p) ?? Number(stream?.offsetsToFetch.get(`${topic}:${p}`) ?? earliest[p] ?? 0n);
  const lagByPartition = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of assigned() ?? [...next.keys()]) {
      if (latest[p] !== undefined) out[offsetKey(topic, p)] = Math.max(0, Number(latest[p]) - positionOf(p));
    }
    return out;
  };
  const caughtUp = async (): Promise<boolean> => {
    const mine = assigned();
    if (mine === undefined || stream === undefined || head < buffer.length || stream.readableLength > 0)
      return false;
    await refreshOffsets();
    return mine.every((p) => positionOf(p) >= Number(latest[p] ?? 0n));
  };

  return {
    name: `kafka:${topic}`,
    async open(ctx: SourceContext) {
      const start = Object.entries(ctx.startOffsets ?? {})
        .filter(([k]) => k.startsWith(`${topic}/`))
        .map(([k, offset]) => ({
          topic,
          partition: Number(k.slice(topic.length + 1)),
          offset: BigInt(offset),
        }));
      for (const s of start) next.set(s.partition, Number(s.offset));
      // Loaded on first use: the client costs ~0.5 s to import, which every CLI start would pay.
      const { Consumer } = await import('@platformatic/kafka');
      consumer = new Consumer({
        clientId: opts.clientId ?? 'sluice',
        groupId: opts.groupId,
        bootstrapBrokers: brokers,
        maxWaitTime: opts.maxWaitMs ?? 200,
        sessionTimeout: opts.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: Math.min(3000, Math.floor((opts.sessionTimeoutMs ?? 10_000) / 3)),
        ...(opts.sasl ? { sasl: { mechanism: 'PLAIN' as const, ...opts.sasl } } : {}),
      });
      // The client emits 'error' when rejoining its group failed for good; unheard, it would
      // crash the process. While closing it is expected; otherwise the pipeline fails with it.
      consumer.on('error', (err: unknown) => {
        if (!closing) failure ??= err;
        wake?.();
      });
      try {
        // A checkpoint is more recent than (or equal to) the committed offsets: it wins.
        stream = await consumer.consume({
          topics: [topic],
          autocommit: false,
          fallbackMode: opts.startAt ?? 'earliest',
          ...(start.length > 0
            ? { mode: 'manual' as const, offsets: start }
            : { mode: 'committed' as const }),
        });
      } catch (err) {
        await consumer.close(true);
        throw err;
      }
      const s = stream;
      s.on('data', (m: Message) => {
        buffer.push(m);
        if (buffer.length - head >= HIGH_WATER) s.pause();
        wake?.();
      });
      s.on('error', (err: unknown) => {
        failure ??= err;
        wake?.();
      });
      s.on('end', () => {
        ended = true;
        wake?.();
      });
      await refreshOffsets();
      lagTimer = setInterval(() => {
        refreshOffsets().catch((err: unknown) =>
          warn(`kafkaSource ${topic}: lag refresh failed: ${(err as Error).message}`),
        );
      }, opts.lagRefreshMs ?? 1000);
      lagTimer.unref();
    },
    async poll(max: number): Promise<Envelope<Buffer | null>[] | null> {
      if (failure !== undefined) throw failure;
      const out: Envelope<Buffer | null>[] = [];
      const now = wallClockMs();
      while (out.length < max && head < buffer.length) {
        const m = buffer[head++];
        const offset = Number(m.offset);
        out.push(envelope(m.value ?? null, topic, m.partition, offset, Number(m.timestamp), now));
        next.set(m.partition, offset + 1);
      }
      if (head === buffer.length || head > HIGH_WATER) {
        buffer = buffer.slice(head); // drop what was handed out
        head = 0;
      }
      if (stream!.isPaused() && buffer.length - head < HIGH_WATER / 2) stream!.resume();
      if (out.length > 0) return out;
      if (ended) return null;
      if (endWhen !== 'never' && (await caughtUp()) && (endWhen === 'caught-up' || endWhen())) return null;
      // Nothing buffered: wait a little for the next fetch to deliver.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve();
        }, 20);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
      return out;
    },
    positions(): SourceOffsets {
      const o: SourceOffsets = {};
      for (const [p, offset] of next) o[offsetKey(topic, p)] = offset;
      return o;
    },
    lag() {
      return Object.values(lagByPartition()).reduce((a, b) => a + b, 0);
    },
    lagByPartition,
    async commit(offsets: SourceOffsets) {
      const mine = new Set(assigned() ?? []);
      const list = Object.entries(offsets)
        .filter(([k]) => k.startsWith(`${topic}/`))
        .map(([k, offset]) => ({
          topic,
          partition: Number(k.slice(topic.length + 1)),
          offset: BigInt(offset),
          leaderEpoch: -1,
        }))
        .filter((o) => mine.has(o.partition)); // partitions moved to another member are theirs to commit
      if (list.length === 0 || consumer === undefined) return;
      try {
        await consumer.commit({ offsets: list });
      } catch (err) {
        warn(
          `kafkaSource ${topic}: committing offsets failed (the next checkpoint retries): ${(err as Error).message}`,
        );
      }
    },
    async close() {
      closing = true;
      clearInterval(lagTimer);
      buffer = [];
      head = 0;
      await stream?.close();
      await consumer?.close();
    },
  };
}
