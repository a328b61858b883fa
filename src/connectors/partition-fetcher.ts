// Reads chosen partitions of one topic from chosen offsets with plain Fetch requests. A scaled-out
// worker needs this besides the group consumer's own stream: it must decide itself where each
// partition resumes (the offsets saved with its state, not the group's commits), and it reads
// changelog partitions to their end while restoring, outside any group.

import type { Consumer } from '@platformatic/kafka';
import { LogError } from '../log/index.js';
import { ConnectorError } from './errors.js';

/** One record as fetched, before any decoding. */
export interface FetchedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer | null, Buffer | null][];
}

export interface PartitionFetcherOptions {
  /** Longest a fetch waits on the broker for new records. Default 100 ms. */
  maxWaitMs?: number;
  /** Bytes per partition per fetch. Default 1 MiB. */
  maxBytesPerPartition?: number;
}

/**
 * Fetches `topic`'s assigned partitions from their next offsets, all leaders at once; each
 * `fetch()` returns the records in offset order per partition and advances the offsets.
 *
 * @example
 * const f = new PartitionFetcher(consumer, 'orders-changelog');
 * f.assign(3, 0);
 * while (!f.caughtUp(3)) for (const r of await f.fetch()) apply(r);
 */
export class PartitionFetcher {
  private readonly next = new Map<number, number>();
  private readonly high = new Map<number, number>();

  constructor(
    private readonly client: Consumer,
    readonly topic: string,
    private readonly opts: PartitionFetcherOptions = {},
  ) {}

  assign(partition: number, offset: number): void {
    this.next.set(partition, offset);
  }

  /** Next offset to read per partition. */
  positions(): Map<number, number> {
    return this.next;
  }

  /** The partition's high watermark as of the last fetch (undefined before the first). */
  highWatermark(partition: number): number | undefined {
    return this.high.get(partition);
  }

  /** Whether `partition` was read to its high watermark (known after one fetch). */
  caughtUp(partition: number): boolean {
    const hw = this.high.get(partition);
    return hw !== undefined && (this.next.get(partition) ?? 0) >= hw;
  }

  async fetch(): Promise<FetchedRecord[]> {
    if (this.next.size === 0) return [];
    const metadata = await this.client.metadata({ topics: [this.topic] });
    const info = metadata.topics.get(this.topic);
    if (!info) throw new ConnectorError('SLUICE_SOURCE_UNAVAILABLE', `topic ${this.topic} does not exist`);
    const byLeader = new Map<number, number[]>();
    for (const p of this.next.keys()) {
      const leader = info.partitions[p]?.leader;
      if (leader === undefined)
        throw new ConnectorError('SLUICE_SOURCE_UNAVAILABLE', `topic ${this.topic} has no partition ${p}`);
      let list = byLeader.get(leader);
      if (!list) byLeader.set(leader, (list = []));
      list.push(p);
    }
    const maxBytes = this.opts.maxBytesPerPartition ?? 1 << 20;
    const responses = await Promise.all(
      [...byLeader].map(([node, partitions]) =>
        this.client
          .fetch({
            node,
            maxWaitTime: this.opts.maxWaitMs ?? 100,
            topics: [
              {
                topicId: info.id,
                partitions: partitions.map((partition) => ({
                  partition,
                  fetchOffset: BigInt(this.next.get(partition)!),
                  partitionMaxBytes: maxBytes,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                })),
              },
            ],
          })
          .catch((err: unknown) => {
            throw this.undecodable(err, partitions) ?? err;
          }),
      ),
    );
    const out: FetchedRecord[] = [];
    for (const response of responses) {
      for (const t of response.responses) {
        for (const part of t.partitions) {
          const p = part.partitionIndex;
          if (part.errorCode !== 0) {
            throw new ConnectorError(
              'SLUICE_SOURCE_UNAVAILABLE',
              `fetching ${this.topic}/${p} failed with Kafka error ${part.errorCode}`,
            );
          }
          this.high.set(p, Number(part.highWatermark));
          let next = this.next.get(p)!;
          for (const batch of part.records ?? []) {
            for (const r of batch.records) {
              const offset = Number(batch.firstOffset) + r.offsetDelta;
              if (offset < next) continue; // a batch may start before the offset asked for
              out.push({
                partition: p,
                offset,
                timestamp: Number(batch.firstTimestamp + r.timestampDelta),
                key: r.key,
                value: r.value,
                headers: r.headers,
              });
              next = offset + 1;
            }
            // An empty batch (offsets a log repair set aside) holds no records but is stepped over.
            next = Math.max(next, Number(batch.firstOffset) + batch.lastOffsetDelta + 1);
          }
          this.next.set(p, next);
        }
      }
    }
    return out;
  }

  /**
   * A batch our codecs could not decode arrives wrapped in the client's retry errors ("fetch
   * failed 4 times"): dig it out and name the topic, partitions and offsets it was fetched at.
   */
  private undecodable(err: unknown, partitions: number[]): ConnectorError | null {
    const found = (e: unknown): LogError | null => {
      if (e instanceof LogError) return e;
      if (e instanceof AggregateError) for (const inner of e.errors) if (found(inner)) return found(inner);
      if (e instanceof Error && e.cause !== undefined) return found(e.cause);
      return null;
    };
    const cause = found(err);
    if (cause === null) return null;
    const at = partitions.map((p) => `${this.topic}/${p} at offset ${this.next.get(p)}`).join(', ');
    return new ConnectorError('SLUICE_SOURCE_UNAVAILABLE', `fetching ${at}: ${cause.message}`, { cause });
  }
}
