import type { PubSub, Topic } from '@google-cloud/pubsub';
import { loadPubSub } from '../core/pubsub.js';
import { SluiceError } from '../core/errors.js';
import { requireOption } from '../stream/index.js';
import { ActionError } from './errors.js';
import { ACTION_HEADERS } from './recent-keys.js';
import type { ActionEntry, ActionSink, DeliveryResult } from './sink.js';

/** The gRPC status of a call the credentials may not make. */
const PERMISSION_DENIED = 7;

export interface PubSubSinkOptions {
  /** The topic: `projects/P/topics/T` (or a topic name with `projectId`). */
  topic: string;
  /** Project of a short topic name; default the client's (GOOGLE_CLOUD_PROJECT, ADC). */
  projectId?: string;
  /**
   * The ordering key of an action (Pub/Sub then keeps the order of actions with the same key,
   * on subscriptions with message ordering enabled). `'record'`: the record's key (`keyBy`).
   * Default: none (no ordering; batches are larger).
   */
  orderingKey?: 'record' | ((entry: ActionEntry) => string | undefined);
  /** Publish batches: up to this many messages (Pub/Sub allows 1,000 per request). Default 1,000. */
  batchMessages?: number;
  /** Publish batches: up to this many bytes (Pub/Sub allows 10 MB per request). Default 9 MiB. */
  batchBytes?: number;
  /** Publish batches: a batch waits at most this long for more messages. Default 10 ms. */
  batchMs?: number;
  /** The message data. Default: the payload as JSON. */
  data?: (entry: ActionEntry) => Buffer;
}

/**
 * Publishes actions to a Google Cloud Pub/Sub topic in batches, each message carrying its
 * idempotency key and action name in the `sluice.idempotency-key` and `sluice.action`
 * attributes, and an ordering key when `orderingKey` gives one. Pub/Sub cannot be read back to
 * find what was already published, so this sink does not dedupe by itself (`dedupes: false`):
 * give the action a ledger, and let consumers that must see each action once dedupe on the
 * attribute (a crash between a publish and the ledger's record publishes again on replay).
 * Needs the optional peer dependency `@google-cloud/pubsub`.
 *
 * @example
 * stream.to(action({ name: 'alert', ledger, payload: (t) => t, to: pubsubActionSink({ topic: 'projects/my-project/topics/alerts', orderingKey: 'record' }) }));
 */
export function pubsubActionSink(opts: PubSubSinkOptions): ActionSink {
  requireOption(
    /^projects\/[^/]+\/topics\/[^/]+$|^[A-Za-z][^/]*$/.test(opts.topic ?? ''),
    `pubsubActionSink: topic "${opts.topic}" must be projects/PROJECT/topics/NAME or a topic name`,
  );
  const batchMessages = opts.batchMessages ?? 1000;
  requireOption(
    batchMessages >= 1 && batchMessages <= 1000,
    'pubsubActionSink: batchMessages must be 1 to 1,000 (the Publish limit)',
  );
  const projectId = /^projects\/([^/]+)\//.exec(opts.topic)?.[1] ?? opts.projectId;
  const dataOf = opts.data ?? ((e: ActionEntry) => Buffer.from(JSON.stringify(e.payload ?? null)));
  const keyOf =
    opts.orderingKey === 'record'
      ? (e: ActionEntry) => (e.recordKey === undefined ? undefined : String(e.recordKey))
      : opts.orderingKey;
  let client: PubSub | undefined;
  let topic: Topic | undefined;

  const fail = (err: unknown, what: string, retryable: boolean) =>
    new ActionError(
      retryable ? 'SLUICE_ACTION_UNAVAILABLE' : 'SLUICE_ACTION_FAILED',
      `pubsubActionSink ${opts.topic}: ${what}: ${(err as Error).message}`,
      retryable,
      { cause: err },
    );

  return {
    name: `pubsub:${opts.topic}`,
    dedupes: false,
    async open() {
      let mod: typeof import('@google-cloud/pubsub');
      try {
        mod = await loadPubSub('pubsubActionSink');
      } catch (err) {
        if (err instanceof SluiceError) throw err; // says what to install
        throw new ActionError('SLUICE_ACTION_FAILED', (err as Error).message, false, { cause: err });
      }
      client = new mod.PubSub(projectId ? { projectId } : {});
      topic = client.topic(opts.topic, {
        batching: {
          maxMessages: batchMessages,
          maxBytes: opts.batchBytes ?? 9 << 20,
          maxMilliseconds: opts.batchMs ?? 10,
        },
        messageOrdering: keyOf !== undefined,
      });
      try {
        // roles/pubsub.publisher may publish but not read the topic: then publishing reports.
        const [exists] = await topic.exists().catch((e: { code?: number }) => {
          if (e.code === PERMISSION_DENIED) return [true];
          throw e;
        });
        if (!exists)
          throw new Error(`the topic does not exist; create it (gcloud pubsub topics create NAME)`);
      } catch (err) {
        await client.close().catch(() => {});
        throw fail(
          err,
          'check the name, the credentials (ADC) or PUBSUB_EMULATOR_HOST for an emulator',
          true,
        );
      }
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      if (entries.length === 0) return { done: 0, duplicates: 0, rejected: [] };
      const t = topic!;
      // One promise for the whole delivery: callbacks count down instead of a promise per message.
      let left = entries.length;
      let error: Error | undefined;
      const failedKeys = new Set<string>();
      const all = new Promise<void>((resolve) => {
        for (const e of entries) {
          const orderingKey = keyOf?.(e);
          t.publishMessage(
            {
              data: dataOf(e),
              attributes: { [ACTION_HEADERS.key]: e.key, [ACTION_HEADERS.action]: e.action },
              ...(orderingKey ? { orderingKey } : {}),
            },
            (err) => {
              if (err) {
                error ??= err;
                if (orderingKey) failedKeys.add(orderingKey);
              }
              if (--left === 0) resolve();
            },
          );
        }
      });
      t.flush().catch(() => {}); // a delivery is a batch already: send it now, not after batchMs
      await all;
      if (error) {
        // A failed key is paused by the client (to keep its order); the replay after restart resumes it.
        for (const k of failedKeys) t.resumePublishing(k);
        throw fail(error, `publishing ${entries.length} message(s) failed`, true);
      }
      return { done: entries.length, duplicates: 0, rejected: [] };
    },
    async close() {
      await topic?.flush().catch(() => {});
      await client?.close().catch(() => {});
    },
  };
}
