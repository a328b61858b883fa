// ListOffsets (key 2), versions 1-6, flexible from 6. Timestamp -1 = latest (the high
// watermark; for isolation_level 1, read_committed, the last stable offset), -2 = earliest, otherwise the first
// record at or after that time (Partition.offsetForTimestamp), or -1 when there is none.
//
// ListOffsets Request (Version: 6) => replica_id isolation_level [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index current_leader_epoch timestamp TAG_BUFFER
// ListOffsets Response (Version: 6) => throttle_time_ms [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index error_code timestamp offset leader_epoch TAG_BUFFER

import type { Partition } from '../../log/index.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  replicaId: number;
  isolationLevel: number;
  topics: { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[];
}
interface PartitionResponse {
  partitionIndex: number;
  errorCode: number;
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}
interface Response {
  throttleTimeMs: number;
  topics: { name: string; partitions: PartitionResponse[] }[];
}

const LATEST = -1;
const EARLIEST = -2;

/** Offset and record timestamp for `timestamp` in `p`. */
function lookup(
  p: Partition,
  timestamp: number,
  latest: number,
): { offset: number; timestamp: number; code: number } {
  if (timestamp === LATEST) return { offset: latest, timestamp: -1, code: 0 };
  if (timestamp === EARLIEST) return { offset: p.logStartOffset, timestamp: -1, code: 0 };
  // -3 (max timestamp) and the other negative markers belong to versions not advertised.
  if (timestamp < 0) return { offset: -1, timestamp: -1, code: KafkaCode.UNSUPPORTED_VERSION };
  const offset = p.offsetForTimestamp(timestamp);
  if (offset === undefined) return { offset: -1, timestamp: -1, code: 0 };
  // Kafka answers with the found record's own timestamp; a compressed batch cannot be looked into.
  let found = timestamp;
  try {
    found = p.read(offset, 1).records.find((r) => r.offset === offset)?.timestamp ?? timestamp;
  } catch {
    // keep the requested timestamp
  }
  return { offset, timestamp: found, code: 0 };
}

export const listOffsetsApi = defineApi<Request, Response>({
  key: 2,
  name: 'ListOffsets',
  versions: '1-6',
  flexible: '6+',
  request: [
    field('replicaId', 'int32'),
    field('isolationLevel', 'int8', '2+'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [
        field('partitionIndex', 'int32'),
        field('currentLeaderEpoch', 'int32', '4+', { default: -1 }),
        field('timestamp', 'int64'),
        field('maxNumOffsets', 'int32', '0', { default: 1 }),
      ]),
    ]),
    field('timeoutMs', 'int32', '10+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '2+'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('oldStyleOffsets', '[]int64', '0'),
        field('timestamp', 'int64', '1+', { default: -1 }),
        field('offset', 'int64', '1+', { default: -1 }),
        field('leaderEpoch', 'int32', '4+', { default: -1 }),
      ]),
    ]),
  ],
  handle(req, ctx) {
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): PartitionResponse => {
        const found = ctx.broker.topics.partition(t.name, p.partitionIndex);
        const base = { partitionIndex: p.partitionIndex, leaderEpoch: 0 };
        if (found.partition === null) return { ...base, errorCode: found.code, timestamp: -1, offset: -1 };
        try {
          const hw = found.partition.highWatermark;
          const latest =
            req.isolationLevel === 1 ? ctx.broker.txns.lastStableOffset(t.name, p.partitionIndex, hw) : hw;
          const r = lookup(found.partition, p.timestamp, latest);
          return { ...base, errorCode: r.code, timestamp: r.timestamp, offset: r.offset };
        } catch (err) {
          ctx.broker.warn(
            `sluice broker: ListOffsets on ${t.name}-${p.partitionIndex}: ${(err as Error).message}`,
          );
          return { ...base, errorCode: KafkaCode.KAFKA_STORAGE_ERROR, timestamp: -1, offset: -1 };
        }
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
