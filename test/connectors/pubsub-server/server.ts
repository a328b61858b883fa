// A small Google Cloud Pub/Sub server for the tests (Google's emulator needs a JVM and gcloud,
// which this machine does not have). Built from the API definition that ships with the client
// (google/pubsub/v1/pubsub.proto) on gRPC; clients reach it through PUBSUB_EMULATOR_HOST like
// the official emulator. It implements what the Node client calls: topic and subscription
// admin, Publish, StreamingPull (acks, deadline changes, flow control), Acknowledge,
// ModifyAckDeadline and Pull; leases that expire and are redelivered; ordering keys (a key's
// next messages wait until its outstanding ones are acked); dead-letter policies.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Subscription as Sub, type Delivery, type Stored, type StreamState } from './subscription.js';

const require = createRequire(import.meta.url);
// The .proto files: pubsub's in its build/protos, Google's common ones (api, protobuf) in google-gax's.
const pubsubMain = require.resolve('@google-cloud/pubsub'); // <root>/build/src/index.js
const protoDirs = [
  join(dirname(pubsubMain), '..', 'protos'),
  join(dirname(createRequire(pubsubMain).resolve('google-gax')), '..', 'protos'),
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type Unary = (call: grpc.ServerUnaryCall<Any, Any>, cb: grpc.sendUnaryData<Any>) => void;

/** A gRPC status error (what the client turns into its ApiError with `code`). */
function status(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** Runs `fn`, sending its result or the status error it threw. */
function unary(fn: (req: Any) => unknown): Unary {
  return (call, cb) => {
    try {
      cb(null, fn(call.request));
    } catch (err) {
      cb(err as grpc.ServiceError);
    }
  };
}

export interface ServerStats {
  published: number;
  /** Messages sent to subscribers, redeliveries included. */
  delivered: number;
  acked: number;
  /** Ack ids whose deadline was changed (extensions and nacks). */
  modAcks: number;
  /** Publish requests (a batching client sends many messages per request). */
  publishRequests: number;
  /** Leases that ran out (their messages redelivered). */
  expired: number;
  /** Acks of ack ids no longer leased (an earlier delivery of a redelivered message): ignored. */
  staleAcks: number;
}

/**
 * Starts on 127.0.0.1 (any free port); `host` is what PUBSUB_EMULATOR_HOST takes.
 *
 * @example
 * const server = await PubSubTestServer.start();
 * process.env.PUBSUB_EMULATOR_HOST = server.host;
 */
export class PubSubTestServer {
  readonly topics = new Map<string, Set<string>>();
  readonly subscriptions = new Map<string, Sub>();
  /** Resources whose Get* calls are refused (PERMISSION_DENIED), as for a publish- or consume-only role. */
  readonly unreadable = new Set<string>();
  readonly stats: ServerStats = {
    published: 0,
    delivered: 0,
    acked: 0,
    modAcks: 0,
    publishRequests: 0,
    expired: 0,
    staleAcks: 0,
  };
  /**
   * How long an Acknowledge call of `n` ack ids takes to be answered (and applied), e.g. a big
   * batch that arrives after a small one under load; undefined: at once.
   */
  ackDelayMs: ((n: number) => number) | undefined;
  private nextId = 1;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly server: grpc.Server,
    readonly host: string,
  ) {
    // Leases are checked every 50 ms: an expired one is redelivered.
    this.timer = setInterval(() => {
      for (const s of this.subscriptions.values()) s.expire(Date.now());
    }, 50);
    this.timer.unref();
  }

  static async start(port = 0): Promise<PubSubTestServer> {
    const def = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
      includeDirs: protoDirs,
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const v1 = (grpc.loadPackageDefinition(def) as Any).google.pubsub.v1;
    const server = new grpc.Server();
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const self = new PubSubTestServer(server, `127.0.0.1:${bound}`);
    server.addService(v1.Publisher.service, self.publisher());
    server.addService(v1.Subscriber.service, self.subscriber());
    return self;
  }

  /** The subscription by full name, or NOT_FOUND. */
  sub(name: string): Sub {
    const s = this.subscriptions.get(name);
    if (!s) throw status(grpc.status.NOT_FOUND, `Subscription does not exist (resource=${name})`);
    return s;
  }

  /** Publishes on the server side (tests seed topics without a client). */
  publish(
    topic: string,
    messages: { data: Buffer; attributes?: Record<string, string>; orderingKey?: string }[],
  ) {
    const subs = this.topics.get(topic);
    if (!subs) throw status(grpc.status.NOT_FOUND, `Topic not found (resource=${topic})`);
    const now = Date.now();
    const ids: string[] = [];
    for (const m of messages) {
      const stored: Stored = {
        id: String(this.nextId++),
        data: m.data,
        attributes: m.attributes ?? {},
        orderingKey: m.orderingKey ?? '',
        publishTime: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 },
      };
      ids.push(stored.id);
      for (const s of subs) this.subscriptions.get(s)?.enqueue(stored);
    }
    this.stats.published += messages.length;
    for (const s of subs) this.subscriptions.get(s)?.pump();
    return ids;
  }

  private publisher(): Record<string, Unary> {
    return {
      createTopic: unary((t: { name: string }) => {
        if (this.topics.has(t.name)) throw status(grpc.status.ALREADY_EXISTS, 'Topic already exists');
        this.topics.set(t.name, new Set());
        return { name: t.name };
      }),
      getTopic: unary((r: { topic: string }) => {
        if (this.unreadable.has(r.topic)) throw status(grpc.status.PERMISSION_DENIED, 'User not authorized');
        if (!this.topics.has(r.topic))
          throw status(grpc.status.NOT_FOUND, `Topic not found (resource=${r.topic})`);
        return { name: r.topic };
      }),
      deleteTopic: unary((r: { topic: string }) => {
        if (!this.topics.delete(r.topic)) throw status(grpc.status.NOT_FOUND, 'Topic not found');
        return {};
      }),
      listTopics: unary((r: { project: string }) => ({
        topics: [...this.topics.keys()]
          .filter((t) => t.startsWith(`${r.project}/`))
          .map((name) => ({ name })),
      })),
      publish: unary((r: { topic: string; messages: Any[] }) => {
        this.stats.publishRequests++;
        return { messageIds: this.publish(r.topic, r.messages) };
      }),
    };
  }

  private subscriber(): Record<string, Unary | ((call: grpc.ServerDuplexStream<Any, Any>) => void)> {
    return {
      createSubscription: unary((s: Any) => {
        if (this.subscriptions.has(s.name))
          throw status(grpc.status.ALREADY_EXISTS, 'Subscription already exists');
        const subs = this.topics.get(s.topic);
        if (!subs) throw status(grpc.status.NOT_FOUND, `Topic not found (resource=${s.topic})`);
        const sub = new Sub(s, this.stats, (topic, m) => this.publish(topic, [m]));
        this.subscriptions.set(s.name, sub);
        subs.add(s.name);
        return sub.config;
      }),
      getSubscription: unary((r: { subscription: string }) => {
        if (this.unreadable.has(r.subscription))
          throw status(grpc.status.PERMISSION_DENIED, 'User not authorized');
        return this.sub(r.subscription).config;
      }),
      deleteSubscription: unary((r: { subscription: string }) => {
        const s = this.sub(r.subscription);
        s.close();
        this.subscriptions.delete(r.subscription);
        this.topics.get(s.config.topic)?.delete(r.subscription);
        return {};
      }),
      acknowledge: (call: grpc.ServerUnaryCall<Any, Any>, cb: grpc.sendUnaryData<Any>) => {
        const r = call.request as { subscription: string; ackIds: string[] };
        const answer = () => unary(() => (this.sub(r.subscription).ack(r.ackIds), {}))(call, cb);
        const delay = this.ackDelayMs?.(r.ackIds.length) ?? 0;
        if (delay > 0) setTimeout(answer, delay);
        else answer();
      },
      modifyAckDeadline: unary(
        (r: { subscription: string; ackIds: string[]; ackDeadlineSeconds: number }) => {
          this.sub(r.subscription).modify(r.ackIds, r.ackDeadlineSeconds);
          return {};
        },
      ),
      pull: (call: grpc.ServerUnaryCall<Any, Any>, cb: grpc.sendUnaryData<Any>) => {
        try {
          const sub = this.sub(call.request.subscription);
          const take = () => sub.pullNow(call.request.maxMessages || 100);
          const first = take();
          if (first.length > 0) return cb(null, { receivedMessages: first });
          setTimeout(() => cb(null, { receivedMessages: take() }), 200); // a short long-poll
        } catch (err) {
          cb(err as grpc.ServiceError);
        }
      },
      streamingPull: (call: grpc.ServerDuplexStream<Any, Any>) => this.streamingPull(call),
    };
  }

  /** The first request names the subscription and flow control; later ones carry acks and deadlines. */
  private streamingPull(call: grpc.ServerDuplexStream<Any, Any>) {
    let sub: Sub | undefined;
    let stream: StreamState | undefined;
    call.on('data', (req: Any) => {
      try {
        if (!sub) {
          sub = this.sub(req.subscription);
          stream = {
            deadlineS: req.streamAckDeadlineSeconds || 10,
            maxMessages: req.maxOutstandingMessages || Infinity,
            maxBytes: req.maxOutstandingBytes || Infinity,
            outstanding: 0,
            bytes: 0,
            send: (batch: Delivery[]) =>
              call.write({
                receivedMessages: batch,
                subscriptionProperties: {
                  messageOrderingEnabled: sub!.config.enableMessageOrdering,
                  exactlyOnceDeliveryEnabled: false,
                },
              }),
          };
          sub.streams.add(stream);
        }
        if (req.streamAckDeadlineSeconds) stream!.deadlineS = req.streamAckDeadlineSeconds;
        if (req.ackIds?.length) sub.ack(req.ackIds);
        if (req.modifyDeadlineAckIds?.length)
          req.modifyDeadlineAckIds.forEach((id: string, i: number) =>
            sub!.modify([id], req.modifyDeadlineSeconds[i] ?? 0),
          );
        sub.pump();
      } catch (err) {
        call.destroy(err as Error);
      }
    });
    // A closed stream keeps its leases until they expire, as Pub/Sub does after a client dies.
    const end = () => {
      if (stream) sub?.streams.delete(stream);
      stream = undefined;
    };
    call.on('end', () => (end(), call.end()));
    call.on('cancelled', end);
    call.on('error', end);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.subscriptions.values()) s.close();
    await new Promise<void>((r) => this.server.tryShutdown(() => r()));
    this.server.forceShutdown();
  }
}
