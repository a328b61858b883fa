import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { loadPubSub } from '../core/pubsub.js';
import { SluiceError } from '../core/errors.js';
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

export interface PubSubSourceOptions {
  /** The subscription: `projects/P/subscriptions/S` (or `subscription` with `projectId`). */
  subscription: string;
  /** Project of a short subscription name; default the client's (GOOGLE_CLOUD_PROJECT, ADC). */
  projectId?: string;
  /**
   * Flow control: messages held (delivered, not yet checkpointed and acked) before the stream
   * pauses. Holding lasts a checkpoint interval, so this bounds what one interval can read.
   * Default 20,000.
   */
  maxMessages?: number;
  /** Flow control: bytes held likewise. Default 64 MiB. */
  maxBytes?: number;
  /** Longest that a held message's ack deadline is extended (ModifyAckDeadline). Default 60 min. */
  maxExtensionMs?: number;
  /** Ends the stream when it returns true and nothing is buffered (tests, bounded runs). */
  endWhen?: () => boolean;
}

/** How the client batches acks: they leave soon after a checkpoint, so a crash redelivers little. */
const ACK_BATCHING = { maxMessages: 2500, maxMilliseconds: 10 };
/**
 * Acks handed to the client per batch window at most. The client queues an ack that would fill
 * its batch (`maxMessages`, or 510 KiB of ack ids) only after that batch's Acknowledge answered,
 * and close() drops such an ack when the batch answers after the calls close() waits for: the
 * checkpointed message came back to the next run. Below both limits (ack ids are ~200 bytes) the
 * client only ever sends a batch when its timer fires, and that ack path is never taken.
 */
const ACKS_PER_WINDOW = 2000;

/** The gRPC status of a call the credentials may not make. */
const PERMISSION_DENIED = 7;

/** A delivered message, buffered and then held until the checkpoint that covers it. */
interface Delivered {
  /** Its delivery number once the pipeline has read it, else -1. */
  index: number;
  /** The newest delivery of the message. */
  message: Message;
  /**
   * Earlier deliveries (their deadline passed while we held the message): acked with it, as the
   * client keeps each in its flow-control inventory until it is acked or nacked.
   */
  copies?: Message[];
}

/**
 * Reads a Google Cloud Pub/Sub subscription on streaming pull. Messages are acknowledged only
 * after the checkpoint that covers them is saved, so a crash redelivers what was not
 * checkpointed (at-least-once delivery); record ids are `<subscription>-0@<message id>`, so
 * action idempotency keys are the same on every redelivery and effects happen once. While
 * messages are held the client extends their ack deadlines (ModifyAckDeadline) up to
 * `maxExtensionMs`; flow control (`maxMessages`, `maxBytes`) pauses the stream while too much is
 * held. With message ordering enabled on the subscription, Pub/Sub delivers the messages of an
 * ordering key in order, and they reach the pipeline in that order (the ordering key is the
 * record key). The subscription's own dead-letter policy counts deliveries that were never
 * acked (e.g. crash loops), see docs/connectors.md.
 *
 * Offsets are delivery numbers: the checkpoint says how many deliveries it covers, not where to
 * resume (Pub/Sub keeps that by acks). Needs the optional peer dependency `@google-cloud/pubsub`.
 *
 * @example
 * const source = pubsubSource({ subscription: 'projects/my-project/subscriptions/transactions' });
 * pipeline('fraud').from(source).decode(json(TX_SCHEMA))...
 */
export function pubsubSource(opts: PubSubSourceOptions): Source<Buffer> {
  const full = /^projects\/([^/]+)\/subscriptions\/([^/]+)$/.exec(opts.subscription);
  requireOption(
    full !== null || /^[A-Za-z][^/]*$/.test(opts.subscription ?? ''),
    `pubsubSource: subscription "${opts.subscription}" must be projects/PROJECT/subscriptions/NAME or a subscription name`,
  );
  const projectId = full?.[1] ?? opts.projectId;
  const topic = full?.[2] ?? opts.subscription;
  const key = offsetKey(topic, 0);
  const maxMessages = opts.maxMessages ?? 20_000;
  requireOption(maxMessages > 0, 'pubsubSource: maxMessages must be positive');
  let client: PubSub | undefined;
  let sub: Subscription | undefined;
  /** Received, not yet handed to the pipeline, in arrival order. */
  const buffer: Delivered[] = [];
  /** Handed to the pipeline, awaiting the checkpoint, in delivery order. */
  const held: Delivered[] = [];
  /** Message id → its buffered or held entry: a redelivery while we hold it only refreshes the ack id. */
  const pending = new Map<string, Delivered>();
  let counter = 0;
  /** Acks handed to the client since its batch timer last fired (see ACKS_PER_WINDOW). */
  let acksInWindow = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;

  const unavailable = (err: unknown, hint: string) =>
    new ConnectorError(
      'SLUICE_SOURCE_UNAVAILABLE',
      `pubsubSource ${opts.subscription}: ${(err as Error).message}; ${hint}`,
      { cause: err },
    );

  const onMessage = (m: Message) => {
    const earlier = pending.get(m.id);
    if (earlier !== undefined) {
      // Redelivered (its deadline passed) while we still hold it: not read again.
      (earlier.copies ??= []).push(earlier.message);
      earlier.message = m;
      return;
    }
    const d: Delivered = { index: -1, message: m };
    pending.set(m.id, d);
    buffer.push(d);
    wake?.();
  };

  // A window ends after the client's batch timer, which the window's first ack set just before:
  // timers fire in order of expiry, so by then the client has taken (and is sending) its batch.
  const afterBatchTimer = () => new Promise<void>((r) => setTimeout(r, ACK_BATCHING.maxMilliseconds + 1));
  /** Hands `m`'s ack to the client (queued, sent when its batch timer fires). */
  const ack = (m: Message): void => {
    m.ack();
    if (acksInWindow++ === 0) void afterBatchTimer().then(() => (acksInWindow = 0));
  };

  return {
    name: `pubsub:${topic}`,
    sharesStamps: true,
    async open(ctx: SourceContext) {
      let mod: typeof import('@google-cloud/pubsub');
      try {
        mod = await loadPubSub('pubsubSource');
      } catch (err) {
        if (err instanceof SluiceError) throw err; // says what to install
        throw new ConnectorError('SLUICE_SOURCE_UNAVAILABLE', (err as Error).message, { cause: err });
      }
      client = new mod.PubSub(projectId ? { projectId } : {});
      sub = client.subscription(full ? opts.subscription : topic, {
        flowControl: { maxMessages, maxBytes: opts.maxBytes ?? 64 << 20, allowExcessMessages: false },
        maxExtensionTime: mod.Duration.from({ millis: opts.maxExtensionMs ?? 3_600_000 }),
        // Acks leave in small batches soon after a checkpoint: the window in which a crash
        // redelivers checkpointed messages stays short.
        batching: { ...ACK_BATCHING },
        // Close nacks what is held: the next run gets it at once instead of after the deadline.
        closeOptions: { behavior: 'NACK' },
      });
      try {
        // Least-privilege roles (roles/pubsub.subscriber) may not read the subscription: then
        // the streaming pull itself reports what is wrong.
        const [exists] = await sub.exists().catch((e: { code?: number }) => {
          if (e.code === PERMISSION_DENIED) return [true];
          throw e;
        });
        if (!exists)
          throw new Error(
            `the subscription does not exist; create it (gcloud pubsub subscriptions create ${topic} --topic=TOPIC [--enable-message-ordering])`,
          );
      } catch (err) {
        await client.close().catch(() => {});
        throw unavailable(
          err,
          'check the name, the credentials (ADC) or PUBSUB_EMULATOR_HOST for an emulator',
        );
      }
      counter = ctx.startOffsets?.[key] ?? 0;
      sub.on('message', onMessage);
      sub.on('error', (err: Error) => {
        failure = err;
        wake?.();
      });
    },
    async poll(max: number): Promise<Envelope<Buffer>[] | null> {
      if (failure) throw unavailable(failure, 'the pipeline resumes from its checkpoint when restarted');
      if (buffer.length === 0) {
        if (opts.endWhen?.()) return null;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 20);
          wake = () => (clearTimeout(t), r());
        });
        wake = undefined;
        return [];
      }
      const take = buffer.splice(0, max);
      const stamps = [wallClockMs()];
      return take.map((d) => {
        const m = d.message;
        d.index = counter++;
        held.push(d);
        const env = envelope(m.data, topic, 0, d.index, m.publishTime.getTime(), stamps);
        env.id = `${topic}-0@${m.id}`;
        if (m.orderingKey) env.key = m.orderingKey;
        return env;
      });
    },
    positions(): SourceOffsets {
      return { [key]: counter };
    },
    lag() {
      return buffer.length;
    },
    async commit(offsets: SourceOffsets) {
      const upTo = offsets[key];
      if (upTo === undefined) return;
      let n = 0;
      while (n < held.length && held[n]!.index < upTo) {
        const { message, copies } = held[n++]!;
        pending.delete(message.id);
        // A full window waits for the next (copies may run past ACKS_PER_WINDOW by a few).
        if (acksInWindow >= ACKS_PER_WINDOW) await afterBatchTimer();
        ack(message);
        if (copies) for (const c of copies) ack(c); // stale ack ids: Pub/Sub ignores them
      }
      held.splice(0, n);
    },
    async close() {
      wake?.();
      await sub?.close().catch(() => {});
      await client?.close().catch(() => {});
    },
  };
}
