// One subscription of the test Pub/Sub server: messages waiting, leases (delivered, not yet
// acked, with a deadline), the streams they are delivered on, ordering keys and dead letters.
import type { ServerStats } from './server.js';

/** A published message as every subscription of its topic shares it. */
export interface Stored {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  publishTime: { seconds: number; nanos: number };
}

/** One StreamingPull stream (or one Pull call): its deadline and flow control. */
export interface StreamState {
  deadlineS: number;
  maxMessages: number;
  maxBytes: number;
  outstanding: number;
  bytes: number;
  send(batch: Delivery[]): void;
}

/** A ReceivedMessage as the API sends it. */
export interface Delivery {
  ackId: string;
  message: Record<string, unknown>;
  deliveryAttempt: number;
}

interface Entry {
  seq: number;
  stored: Stored;
  attempts: number;
}

interface Lease {
  entry: Entry;
  deadline: number;
  stream: StreamState;
}

/** The Subscription resource as the client reads it back. */
export interface SubscriptionConfig {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  enableMessageOrdering: boolean;
  deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number } | null;
  [field: string]: unknown;
}

export class Subscription {
  readonly config: SubscriptionConfig;
  readonly streams = new Set<StreamState>();
  private queue: Entry[] = [];
  private unsorted = false;
  private readonly leases = new Map<string, Lease>();
  /** Leased messages per ordering key: a key with any is not delivered again until they are acked. */
  private readonly keyLeases = new Map<string, number>();
  private seq = 0;
  /** The most messages leased at once (flow control's effect). */
  peakLeased = 0;
  /** Ack ids of a consumer the test declared dead (`deafen`): its acks and extensions are lost. */
  private readonly deaf = new Set<string>();

  constructor(
    requested: Record<string, unknown>,
    private readonly stats: ServerStats,
    private readonly forward: (topic: string, m: Omit<Stored, 'id' | 'publishTime'>) => void,
  ) {
    const dlp = requested.deadLetterPolicy as SubscriptionConfig['deadLetterPolicy'];
    this.config = {
      ...requested,
      name: requested.name as string,
      topic: requested.topic as string,
      ackDeadlineSeconds: (requested.ackDeadlineSeconds as number) || 10,
      enableMessageOrdering: Boolean(requested.enableMessageOrdering),
      deadLetterPolicy: dlp?.deadLetterTopic
        ? { deadLetterTopic: dlp.deadLetterTopic, maxDeliveryAttempts: dlp.maxDeliveryAttempts || 5 }
        : null,
    };
  }

  /** Messages neither acked nor dead-lettered (waiting or leased). */
  get backlog(): number {
    return this.queue.length + this.leases.size;
  }

  enqueue(stored: Stored): void {
    this.queue.push({ seq: this.seq++, stored, attempts: 0 });
  }

  /** Delivers what flow control and ordering allow to the open streams. */
  pump(): void {
    if (this.streams.size > 0) this.deliver([...this.streams]);
  }

  /** Pull: up to `max` messages now, leased for the subscription's ack deadline. */
  pullNow(max: number): Delivery[] {
    const got: Delivery[] = [];
    const once: StreamState = {
      deadlineS: this.config.ackDeadlineSeconds,
      maxMessages: max,
      maxBytes: Infinity,
      outstanding: 0,
      bytes: 0,
      send: (b) => got.push(...b),
    };
    this.deliver([once]);
    return got;
  }

  private deliver(streams: StreamState[]): void {
    if (this.unsorted) this.queue.sort((a, b) => a.seq - b.seq);
    this.unsorted = false;
    const ordered = this.config.enableMessageOrdering;
    const batches = new Map<StreamState, Delivery[]>();
    /** Ordering keys this round: the stream each went to, or null once the key must wait. */
    const keys = new Map<string, StreamState | null>();
    const kept: Entry[] = [];
    const now = Date.now();
    let next = 0;
    let i = 0;
    for (; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      const key = ordered ? e.stored.orderingKey : '';
      let target: StreamState | undefined;
      if (key !== '' && keys.has(key)) {
        const s = keys.get(key) ?? undefined;
        target = s && this.fits(s, e) ? s : undefined;
      } else if (key === '' || !this.keyLeases.get(key)) {
        // Round robin over the streams with room.
        for (let k = 0; k < streams.length && !target; k++) {
          const s = streams[(next + k) % streams.length]!;
          if (!this.fits(s, e)) continue;
          target = s;
          next = (next + k + 1) % streams.length;
        }
      }
      if (key !== '') keys.set(key, target ?? null);
      if (!target) {
        kept.push(e);
        if (streams.every((s) => s.outstanding >= s.maxMessages)) break; // all full: stop scanning
        continue;
      }
      if (this.config.deadLetterPolicy && e.attempts >= this.config.deadLetterPolicy.maxDeliveryAttempts) {
        this.deadLetter(e);
        continue;
      }
      e.attempts++;
      const ackId = `${e.stored.id}-${e.attempts}`;
      this.leases.set(ackId, { entry: e, deadline: now + target.deadlineS * 1000, stream: target });
      target.outstanding++;
      target.bytes += e.stored.data.length;
      if (key !== '') this.keyLeases.set(key, (this.keyLeases.get(key) ?? 0) + 1);
      let batch = batches.get(target);
      if (!batch) batches.set(target, (batch = []));
      batch.push({
        ackId,
        message: { ...e.stored, messageId: e.stored.id },
        deliveryAttempt: this.config.deadLetterPolicy ? e.attempts : 0,
      });
    }
    this.queue = i < this.queue.length ? kept.concat(this.queue.slice(i + 1)) : kept;
    this.peakLeased = Math.max(this.peakLeased, this.leases.size);
    for (const [s, batch] of batches) {
      this.stats.delivered += batch.length;
      s.send(batch);
    }
  }

  /** A stream with nothing outstanding takes one message of any size, as Pub/Sub does. */
  private fits(s: StreamState, e: Entry): boolean {
    if (s.outstanding === 0) return true;
    return s.outstanding < s.maxMessages && s.bytes + e.stored.data.length <= s.maxBytes;
  }

  private deadLetter(e: Entry): void {
    const { deadLetterTopic } = this.config.deadLetterPolicy!;
    this.forward(deadLetterTopic, {
      data: e.stored.data,
      orderingKey: e.stored.orderingKey,
      attributes: {
        ...e.stored.attributes,
        CloudPubSubDeadLetterSourceSubscription: this.config.name,
        CloudPubSubDeadLetterSourceDeliveryCount: String(e.attempts),
      },
    });
  }

  /** Ends a lease; `redeliver` puts the message back in the queue (nack, expiry). */
  private release(ackId: string, redeliver: boolean): Lease | undefined {
    const l = this.leases.get(ackId);
    if (!l) return undefined; // stale ack id (an earlier delivery): ignored, as Pub/Sub does
    this.leases.delete(ackId);
    l.stream.outstanding--;
    l.stream.bytes -= l.entry.stored.data.length;
    const key = this.config.enableMessageOrdering ? l.entry.stored.orderingKey : '';
    if (key !== '') {
      const n = this.keyLeases.get(key)! - 1;
      if (n === 0) this.keyLeases.delete(key);
      else this.keyLeases.set(key, n);
    }
    if (redeliver) {
      this.queue.push(l.entry);
      this.unsorted = true;
    }
    return l;
  }

  /**
   * Plays a consumer's death for the tests: what is leased now stays leased until it expires,
   * whatever the (still running) client sends for it, and the open streams get nothing more.
   */
  deafen(): void {
    for (const id of this.leases.keys()) this.deaf.add(id);
    for (const s of this.streams) s.maxMessages = 0;
    this.streams.clear();
  }

  ack(ackIds: string[]): void {
    for (const id of ackIds) {
      if (this.deaf.has(id)) continue;
      if (this.release(id, false)) this.stats.acked++;
      else this.stats.staleAcks++;
    }
    this.pump();
  }

  /** ModifyAckDeadline: 0 s is a nack; otherwise the lease runs that long from now. */
  modify(ackIds: string[], seconds: number): void {
    this.stats.modAcks += ackIds.length;
    for (const id of ackIds) {
      if (this.deaf.has(id)) continue;
      if (seconds === 0) this.releaseInOrder(id);
      else {
        const l = this.leases.get(id);
        if (l) l.deadline = Date.now() + seconds * 1000;
      }
    }
    this.pump();
  }

  /** Redelivers the expired leases (with ordering: also the key's later messages, to keep its order). */
  expire(now: number): void {
    let any = false;
    for (const [id, l] of this.leases)
      if (l.deadline <= now && this.releaseInOrder(id)) {
        this.stats.expired++;
        any = true;
      }
    if (any) this.pump();
  }

  private releaseInOrder(ackId: string): boolean {
    const l = this.release(ackId, true);
    if (!l) return false;
    const key = this.config.enableMessageOrdering ? l.entry.stored.orderingKey : '';
    if (key !== '')
      for (const [id, other] of this.leases)
        if (other.entry.stored.orderingKey === key && other.entry.seq > l.entry.seq) this.release(id, true);
    return true;
  }

  close(): void {
    this.streams.clear();
  }
}
