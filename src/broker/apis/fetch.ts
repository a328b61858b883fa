// Fetch (key 1), versions 4-12, flexible from 12. Returns the stored batches unchanged, starting
// with the batch that contains the fetch offset; the first batch always comes whole, even past
// max_bytes (KIP-74). Below min_bytes the request waits up to max_wait_ms for appends (long
// poll). isolation_level 1 (read_committed) is served up to the last stable offset only, with
// the aborted transactions among the returned records listed, so the client drops them. No fetch sessions: session id 0 is always answered, so clients send full fetches.
// v13+ identifies topics by id and is not advertised. v0-3 (message sets of magic 0/1, as
// kafka-go 0.2 sends v2) are not advertised either, but answered in their own format with
// UNSUPPORTED_VERSION on every partition, so such a client gets an error instead of a closed
// connection.
//
// Fetch Request (Version: 12) => replica_id max_wait_ms min_bytes max_bytes isolation_level
//     session_id session_epoch [topics] [forgotten_topics_data] rack_id TAG_BUFFER
//   topics => topic [partitions] TAG_BUFFER
//     partitions => partition current_leader_epoch fetch_offset last_fetched_epoch
//         log_start_offset partition_max_bytes TAG_BUFFER
//   forgotten_topics_data => topic [partitions] TAG_BUFFER
// Fetch Response (Version: 12) => throttle_time_ms error_code session_id [responses] TAG_BUFFER
//   responses => topic [partitions] TAG_BUFFER
//     partitions => partition_index error_code high_watermark last_stable_offset
//         log_start_offset [aborted_transactions] preferred_read_replica records TAG_BUFFER

import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
} from '../../log/batch-layout.js';
import { readInt64BE } from '../../log/varint.js';
import { partitionKey } from '../append-notifier.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi, type RequestContext } from './api.js';

interface FetchPartition {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}
interface Request {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: { topic: string; partitions: FetchPartition[] }[];
}
interface PartitionData {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  records: Buffer | null;
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  responses: { topic: string; partitions: PartitionData[] }[];
}

const EMPTY = Buffer.alloc(0);

/** Every requested partition answered with `errorCode` and no records. */
function refuseAll(req: Request, errorCode: number): Response {
  const responses = req.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p): PartitionData => ({
      partitionIndex: p.partition,
      errorCode,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: null,
      records: null,
    })),
  }));
  return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
}

/** Reads every requested partition once; `bytes` is the record bytes found, `failed` any partition error. */
function collect(req: Request, ctx: RequestContext): { response: Response; bytes: number; failed: boolean } {
  let budget = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
  let bytes = 0;
  let failed = false;
  const readCommitted = req.isolationLevel === 1;
  const responses = req.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p): PartitionData => {
      const out: PartitionData = {
        partitionIndex: p.partition,
        errorCode: 0,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: readCommitted ? [] : null,
        records: EMPTY,
      };
      const found = ctx.broker.topics.partition(t.topic, p.partition);
      if (found.partition === null) {
        failed = true;
        out.errorCode = found.code;
        return out;
      }
      const part = found.partition;
      out.highWatermark = part.highWatermark;
      // Below it every transaction has ended; it is the high watermark when none is open.
      out.lastStableOffset = ctx.broker.txns.lastStableOffset(t.topic, p.partition, part.highWatermark);
      out.logStartOffset = part.logStartOffset;
      if (p.fetchOffset < part.logStartOffset || p.fetchOffset > part.highWatermark) {
        failed = true;
        out.errorCode = KafkaCode.OFFSET_OUT_OF_RANGE;
        return out;
      }
      const limit = readCommitted ? out.lastStableOffset : part.highWatermark;
      if (p.fetchOffset >= limit || budget <= 0) return out;
      try {
        let data = part.readVerifiedBatches(
          p.fetchOffset,
          Math.min(Math.max(p.partitionMaxBytes, 0), budget),
        );
        if (readCommitted) {
          data = batchesBelow(data, limit);
          let end = endOffset(data, p.fetchOffset);
          let aborted = ctx.broker.txns.abortedIn(t.topic, p.partition, p.fetchOffset, end);
          // Some clients (@platformatic/kafka 1.x) keep one aborted range per producer per
          // response and let the records of an earlier aborted transaction of the same producer
          // through; a transactional id keeps its producer id across restarts, so that happens.
          // Answer up to the second aborted transaction of any producer: the next fetch gets it.
          const cut = secondAbortedStart(aborted);
          if (cut !== undefined && cut > p.fetchOffset) {
            const shorter = batchesBelow(data, cut);
            if (shorter.length > 0) {
              data = shorter;
              end = endOffset(data, p.fetchOffset);
              aborted = ctx.broker.txns.abortedIn(t.topic, p.partition, p.fetchOffset, end);
            }
          }
          out.abortedTransactions = aborted;
        }
        // Only the first non-empty partition may exceed the response's max_bytes.
        if (bytes > 0 && data.length > budget) return out;
        out.records = data;
        bytes += data.length;
        budget -= data.length;
      } catch (err) {
        failed = true;
        out.errorCode = KafkaCode.KAFKA_STORAGE_ERROR;
        ctx.broker.warn(`sluice broker: reading ${t.topic}-${p.partition} failed: ${(err as Error).message}`);
      }
      return out;
    }),
  }));
  return { response: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses }, bytes, failed };
}

/** The first offset of the earliest second aborted transaction of one producer in `aborted`, if any. */
function secondAbortedStart(aborted: { producerId: number; firstOffset: number }[]): number | undefined {
  const seen = new Set<number>();
  let cut: number | undefined;
  for (const a of [...aborted].sort((x, y) => x.firstOffset - y.firstOffset)) {
    if (!seen.has(a.producerId)) seen.add(a.producerId);
    else if (cut === undefined || a.firstOffset < cut) cut = a.firstOffset;
  }
  return cut;
}

/** The leading whole batches of `data` that start below `offset` (batches never straddle a last stable offset). */
function batchesBelow(data: Buffer, offset: number): Buffer {
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= data.length && readInt64BE(data, pos) < offset)
    pos += data.readInt32BE(pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
  return pos >= data.length ? data : data.subarray(0, pos);
}

/** The offset after the last batch of `data` (`from` when it is empty). */
function endOffset(data: Buffer, from: number): number {
  let pos = 0;
  let end = from;
  while (pos + BATCH_HEADER_SIZE <= data.length) {
    end = readInt64BE(data, pos) + data.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) + 1;
    pos += data.readInt32BE(pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
  }
  return end;
}

export const fetchApi = defineApi<Request, Response>({
  key: 1,
  name: 'Fetch',
  versions: '0-12',
  advertised: '4-12',
  flexible: '12+',
  request: [
    field('replicaId', 'int32', '0-14', { default: -1 }),
    field('maxWaitMs', 'int32'),
    field('minBytes', 'int32'),
    field('maxBytes', 'int32', '3+', { default: 0x7fffffff }),
    field('isolationLevel', 'int8', '4+', { default: 0 }),
    field('sessionId', 'int32', '7+', { default: 0 }),
    field('sessionEpoch', 'int32', '7+', { default: -1 }),
    array('topics', '0+', [
      field('topic', 'string', '0-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', '0+', [
        field('partition', 'int32'),
        field('currentLeaderEpoch', 'int32', '9+', { default: -1 }),
        field('fetchOffset', 'int64'),
        field('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        field('partitionMaxBytes', 'int32'),
      ]),
    ]),
    array('forgottenTopicsData', '7+', [
      field('topic', 'string', '7-12'),
      field('topicId', 'uuid', '13+'),
      field('partitions', '[]int32', '7+'),
    ]),
    field('rackId', 'string', '11+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '7+'),
    field('sessionId', 'int32', '7+'),
    array('responses', '0+', [
      field('topic', 'string', '0-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', '0+', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('highWatermark', 'int64'),
        field('lastStableOffset', 'int64', '4+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        array('abortedTransactions', '4+', [field('producerId', 'int64'), field('firstOffset', 'int64')], {
          nullable: '4+',
        }),
        field('preferredReadReplica', 'int32', '11+', { default: -1 }),
        field('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  handle(req, ctx) {
    if (ctx.apiVersion < 4) return refuseAll(req, KafkaCode.UNSUPPORTED_VERSION);
    if (req.sessionId !== 0) {
      // This broker never hands out a session id, so an incremental fetch refers to none.
      return {
        throttleTimeMs: 0,
        errorCode: KafkaCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    }
    const first = collect(req, ctx);
    if (first.failed || first.bytes >= req.minBytes || req.maxWaitMs <= 0) return first.response;
    return longPoll(req, ctx);
  },
});

/** Waits until the requested partitions hold min_bytes, max_wait_ms passes or the connection closes. */
function longPoll(req: Request, ctx: RequestContext): Promise<Response> {
  return new Promise((resolve) => {
    const keys = req.topics.flatMap((t) => t.partitions.map((p) => partitionKey(t.topic, p.partition)));
    let scheduled = false;
    let finished = false;
    const finish = (ready?: Response) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stopWaiting();
      stopOnClose();
      resolve(ready ?? collect(req, ctx).response);
    };
    const timer = setTimeout(() => finish(), req.maxWaitMs);
    const stopWaiting = ctx.broker.appends.wait(keys, () => {
      if (scheduled || finished) return;
      scheduled = true;
      // Appends often come in bursts: look once after the burst instead of once per batch.
      setImmediate(() => {
        scheduled = false;
        if (finished) return;
        const next = collect(req, ctx);
        if (next.failed || next.bytes >= req.minBytes) finish(next.response);
      });
    });
    const stopOnClose = ctx.conn.onClose(() => finish());
  });
}
