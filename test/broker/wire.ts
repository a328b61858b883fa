// Request builders shared by the protocol tests (raw client, broker's own specs).

import type { ProducerRecord } from '../../src/log/index.js';
import type { Msg, RawClient } from './helpers.js';

export const PRODUCE = 0;
export const FETCH = 1;
export const LIST_OFFSETS = 2;
export const METADATA = 3;
export const OFFSET_COMMIT = 8;
export const OFFSET_FETCH = 9;
export const API_VERSIONS = 18;
export const CREATE_TOPICS = 19;
export const DELETE_TOPICS = 20;
export const INIT_PRODUCER_ID = 22;

/** n records k<i>/v<i> from `from`, with timestamps ts+i when ts is given. */
export function records(n: number, from = 0, ts?: number): ProducerRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${from + i}`),
    value: Buffer.from(`v${from + i}`),
    ...(ts === undefined ? {} : { timestamp: ts + i }),
  }));
}

/** One batch to one partition (Produce v9 by default). */
export function produce(
  c: RawClient,
  topic: string,
  partition: number,
  batch: Buffer,
  acks = -1,
  version = 9,
): Promise<Msg> {
  return c.send(PRODUCE, version, {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
}

/** Fetch v12 of one partition, no waiting unless `extra` says so. */
export function fetch(
  c: RawClient,
  topic: string,
  partition: number,
  offset: number,
  extra: Partial<Msg> = {},
): Promise<Msg> {
  return c.send(FETCH, 12, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    ...extra,
  });
}

/** The first partition entry of a Produce or Fetch response. */
export const part = (res: Msg, i = 0): Msg =>
  res.responses[0].partitionResponses?.[i] ?? res.responses[0].partitions[i];
