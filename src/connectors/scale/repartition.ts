// The repartition topic between the two halves of a scaled-out pipeline. The front half (before
// `.keyBy()`) writes each record to the partition of its new key, carrying where it came from;
// the back half reads the partitions it owns. The front half is at-least-once (a worker that
// dies re-sends what it had not committed), so the back half drops a record it has already
// seen: per repartition partition and original partition it keeps the next original offset
// expected ("dedup marks", saved with its offsets in every checkpoint).

import type { Producer } from '@platformatic/kafka';
import { deserialize, serialize } from 'node:v8';
import { wallClockMs } from '../../observe/index.js';
import {
  envelope,
  offsetKey,
  type Envelope,
  type RecordKey,
  type Sink,
  type Source,
  type SourceOffsets,
} from '../../stream/index.js';
import { ConnectorError } from '../errors.js';
import type { FetchedRecord, PartitionFetcher } from '../partition-fetcher.js';
import { keyBytes, partitionFor } from './partitioner.js';

/** [original topic, partition, offset, record id, key, event time, append time, value]. */
type Carried = [string, number, number, string | undefined, RecordKey, number, number, unknown];

/** Writes keyed records to the repartition topic (acknowledged by the broker before `write` resolves). */
export function repartitionSink(producer: Producer, topic: string, partitions: number): Sink<unknown> {
  return {
    name: `repartition:${topic}`,
    async write(records: Envelope[]) {
      const messages = records.map((env) => {
        if (env.key === undefined) {
          throw new ConnectorError(
            'SLUICE_SCALE_UNSUPPORTED',
            `a record reached the repartition topic ${topic} without a key`,
          );
        }
        const carried: Carried = [
          env.topic,
          env.partition,
          env.offset,
          env.id,
          env.key,
          env.eventTime,
          env.appendTime,
          env.value,
        ];
        return {
          topic,
          partition: partitionFor(env.key, partitions),
          key: keyBytes(env.key),
          value: serialize(carried),
          timestamp: BigInt(Math.round(env.eventTime)),
        };
      });
      await producer.send({ messages });
    },
  };
}

/** The dedup-mark key of original partition `origin` ("topic/partition") within repartition `key`. */
const markKey = (partitionKey: string, origin: string) => `${partitionKey}|${origin}`;

/**
 * The back half's source over the repartition partitions this worker owns, from the offsets its
 * state was saved at. Records keep their original id (so action keys match an unscaled run) and
 * event time; their position is their place in the repartition topic.
 */
export function repartitionSource(
  fetcher: PartitionFetcher,
  start: SourceOffsets,
  assigned: number[],
): Source<unknown> {
  const topic = fetcher.topic;
  const marks = new Map<string, number>();
  for (const p of assigned) {
    const k = offsetKey(topic, p);
    fetcher.assign(p, start[k] ?? 0);
  }
  for (const [k, v] of Object.entries(start)) if (k.includes('|')) marks.set(k, v);
  const lagOf = (p: number) => Math.max(0, (fetcher.highWatermark(p) ?? 0) - (next.get(p) ?? 0));
  let stopped = false;
  // Fetched but not yet handed out: a fetch can bring a MiB per partition, polls take `max`.
  let buffered: FetchedRecord[] = [];
  let head = 0;
  const next = new Map(fetcher.positions()); // after the records handed out
  return {
    name: `repartition:${topic}`,
    async open() {},
    async poll(max: number): Promise<Envelope[] | null> {
      if (stopped) return null;
      if (head >= buffered.length) {
        buffered = await fetcher.fetch();
        head = 0;
      }
      const now = wallClockMs();
      const out: Envelope[] = [];
      while (out.length < max && head < buffered.length) {
        const r = buffered[head++]!;
        next.set(r.partition, r.offset + 1);
        const c = deserialize(r.value!) as Carried;
        const mark = markKey(offsetKey(topic, r.partition), offsetKey(c[0], c[1]));
        if (c[2] < (marks.get(mark) ?? 0)) continue; // a front-half replay of a record already read
        marks.set(mark, c[2] + 1);
        const env = envelope(c[7], topic, r.partition, r.offset, c[6], now);
        env.id = c[3] ?? `${c[0]}-${c[1]}@${c[2]}`;
        env.key = c[4];
        env.eventTime = c[5];
        out.push(env);
      }
      return out;
    },
    positions() {
      const o: SourceOffsets = {};
      for (const [p, n] of next) o[offsetKey(topic, p)] = n;
      for (const [k, v] of marks) o[k] = v;
      return o;
    },
    partitions: () => assigned.map((p) => offsetKey(topic, p)),
    lag: () => assigned.reduce((n, p) => n + lagOf(p), 0),
    lagByPartition: () => Object.fromEntries(assigned.map((p) => [offsetKey(topic, p), lagOf(p)])),
    async close() {
      stopped = true;
    },
  };
}
