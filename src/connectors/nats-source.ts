import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
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
import { ConnectorError } from './errors.js';
import { redactUrls } from '../core/redact.js';

export interface NatsSourceOptions {
  /** nats://host:4222 (comma-separated for several). */
  servers: string;
  /** Subject to read (wildcards allowed); it is the record topic. */
  subject: string;
  /** JetStream stream; default the stream that captures the subject, else one is created (SLUICE_<subject>). */
  stream?: string;
  /** Durable consumer name. Default sluice-<pipeline>. */
  durable?: string;
  /** Messages delivered but not yet checkpointed (and acked). Default 50,000. */
  maxAckPending?: number;
  /** Redelivery timeout of unacked messages; must exceed checkpoint interval plus queueing. Default 60 s. */
  ackWaitMs?: number;
  /** Messages fetched ahead of the pipeline. Default 2048. */
  prefetch?: number;
  /** Ends the stream when it returns true and nothing is buffered (tests, bounded runs). */
  endWhen?: () => boolean;
  user?: string;
  pass?: string;
  token?: string;
}

/**
 * The stream created for a subject no stream captures: letters, digits, "_" and "-" only.
 *
 * @example
 * natsStreamName('orders.*'); // 'SLUICE_orders_STAR'
 */
export function natsStreamName(subject: string): string {
  return `SLUICE_${subject
    .replace(/\*/g, 'STAR')
    .replace(/>/g, 'ALL')
    .replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/**
 * Reads a NATS JetStream subject through a durable pull consumer with explicit acks: a message
 * is acked only after the checkpoint that covers it is saved, so a crash redelivers exactly what
 * was not checkpointed. Offsets are stream sequences; at open the consumer is moved to the
 * checkpoint's sequence when it is elsewhere (messages delivered to the crashed run included).
 *
 * @example
 * const source = natsSource({ servers: 'nats://127.0.0.1:4222', subject: 'orders.created' });
 * pipeline('orders').from(source).decode(json(schema))...
 */
export function natsSource(opts: NatsSourceOptions): Source<Buffer> {
  requireOption(typeof opts.subject === 'string' && opts.subject !== '', 'natsSource: subject is required');
  const topic = opts.subject;
  const key = offsetKey(topic, 0);
  const prefetch = opts.prefetch ?? 2048;
  let js: typeof import('@nats-io/jetstream');
  let transport: typeof import('@nats-io/transport-node');
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  const buffer: JsMsg[] = [];
  /** Delivered, awaiting the checkpoint that covers them, in stream order. */
  const unacked: JsMsg[] = [];
  let next = 0;
  let pendingOnServer = 0;
  let ackPendingOnServer = 0;
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  let failure: unknown;
  let lagTimer: NodeJS.Timeout | undefined;
  /** Reads the consumer's pending count from the server (lag, end of a bounded run). */
  let refresh: () => Promise<unknown> = async () => {};

  /** Puts the durable consumer at `start` (a stream sequence), recreating it if it is elsewhere. */
  const placeConsumer = async (
    jsm: JetStreamManager,
    stream: string,
    durable: string,
    start: number | undefined,
  ) => {
    const config = {
      durable_name: durable,
      ack_policy: js.AckPolicy.Explicit,
      filter_subject: topic,
      max_ack_pending: opts.maxAckPending ?? 50_000,
      ack_wait: transport.nanos(opts.ackWaitMs ?? 60_000),
    };
    const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (info) {
      const from = start ?? info.ack_floor.stream_seq + 1;
      // Where it stands already and nothing is owed: keep it (and its server-side state).
      if (info.num_ack_pending === 0 && info.delivered.stream_seq + 1 === from) return from;
      await jsm.consumers.delete(stream, durable);
      await jsm.consumers.add(stream, {
        ...config,
        deliver_policy: js.DeliverPolicy.StartSequence,
        opt_start_seq: from,
      });
      return from;
    }
    await jsm.consumers.add(
      stream,
      start === undefined
        ? { ...config, deliver_policy: js.DeliverPolicy.All }
        : { ...config, deliver_policy: js.DeliverPolicy.StartSequence, opt_start_seq: start },
    );
    return start ?? 0;
  };

  /** Moves messages from the consumer into the buffer, pausing while the buffer is full. */
  const pump = async (it: ConsumerMessages) => {
    for await (const m of it) {
      if (m.seq < next && m.redelivered) continue; // already handed out: an ack-wait redelivery
      buffer.push(m);
      wake?.();
      if (buffer.length >= prefetch) await new Promise<void>((r) => (resume = r));
    }
  };

  return {
    name: `nats:${topic}`,
    sharesStamps: true,
    async open(ctx: SourceContext) {
      try {
        // The NATS client is loaded on first use, not with `sluice`.
        [js, transport] = await Promise.all([
          import('@nats-io/jetstream'),
          import('@nats-io/transport-node'),
        ]);
        nc = await transport.connect({
          servers: opts.servers.split(','),
          ...(opts.user ? { user: opts.user, pass: opts.pass } : {}),
          ...(opts.token ? { token: opts.token } : {}),
        });
        const jsm = await js.jetstreamManager(nc);
        let stream = opts.stream ?? (await jsm.streams.find(topic).catch(() => undefined));
        if (!stream) {
          stream = natsStreamName(topic);
          await jsm.streams.add({ name: stream, subjects: [topic] });
        }
        const durable = opts.durable ?? `sluice-${ctx.pipeline}`;
        const saved = ctx.startOffsets?.[key];
        next = await placeConsumer(
          jsm,
          stream,
          durable,
          saved !== undefined && saved > 0 ? saved : undefined,
        );
        const consumer = await js.jetstream(nc).consumers.get(stream, durable);
        messages = await consumer.consume({ max_messages: prefetch });
        pump(messages).catch((e: unknown) => (failure = e));
        refresh = () =>
          consumer
            .info()
            .then((i) => {
              pendingOnServer = i.num_pending;
              ackPendingOnServer = i.num_ack_pending;
            })
            .catch(() => {});
        await refresh();
        lagTimer = setInterval(refresh, 1000);
        lagTimer.unref();
      } catch (err) {
        await nc?.close().catch(() => {});
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          redactUrls(
            `natsSource ${opts.servers} ${topic}: ${(err as Error).message}; is nats-server running with JetStream (-js)? check the URL`,
          ),
          { cause: err },
        );
      }
    },
    async poll(max: number): Promise<Envelope<Buffer>[] | null> {
      if (failure)
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          `natsSource ${topic}: ${(failure as Error).message}`,
        );
      if (buffer.length === 0) {
        if (opts.endWhen?.()) {
          await refresh(); // asked rarely: only when caught up and the caller wants to end
          // Delivered to this client but not yet in the buffer: in transit, not the end.
          if (pendingOnServer === 0 && buffer.length === 0 && ackPendingOnServer <= unacked.length)
            return null;
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, 20);
          wake = () => (clearTimeout(t), r());
        });
        wake = undefined;
        return [];
      }
      const take = buffer.splice(0, max);
      const stamps = [wallClockMs()];
      const out = take.map((m) => {
        unacked.push(m);
        next = m.seq + 1;
        return envelope(
          Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
          topic,
          0,
          m.seq,
          Math.floor(Number(m.info.timestampNanos) / 1e6),
          stamps,
        );
      });
      if (buffer.length < prefetch / 2) resume?.();
      return out;
    },
    positions(): SourceOffsets {
      return { [key]: next };
    },
    lag() {
      return buffer.length + pendingOnServer;
    },
    async commit(offsets: SourceOffsets) {
      const upTo = offsets[key];
      if (upTo === undefined) return;
      let n = 0;
      while (n < unacked.length && unacked[n]!.seq < upTo) unacked[n++]!.ack();
      unacked.splice(0, n);
    },
    async close() {
      clearInterval(lagTimer);
      resume?.();
      await messages?.close().catch(() => {});
      await nc?.drain().catch(() => {});
    },
  };
}
