// OffsetDelete (key 47), version 0 (not flexible). Deletes a group's committed offsets for
// some partitions; refused (GROUP_SUBSCRIBED_TO_TOPIC) for a topic a live member subscribes to.
//
// OffsetDelete Request (Version: 0) => group_id [topics]
//   topics => name [partitions]
//     partitions => partition_index
// OffsetDelete Response (Version: 0) => error_code throttle_time_ms [topics]
//   topics => name [partitions]
//     partitions => partition_index error_code

import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  groupId: string;
  topics: { name: string; partitions: { partitionIndex: number }[] }[];
}
interface Response {
  errorCode: number;
  throttleTimeMs: number;
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

export const offsetDeleteApi = defineApi<Request, Response>({
  key: 47,
  name: 'OffsetDelete',
  versions: '0',
  flexible: 'none',
  request: [
    field('groupId', 'string'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [field('partitionIndex', 'int32')]),
    ]),
  ],
  response: [
    field('errorCode', 'int16'),
    field('throttleTimeMs', 'int32'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [field('partitionIndex', 'int32'), field('errorCode', 'int16')]),
    ]),
  ],
  handle(req, ctx) {
    if (req.groupId === '') return { errorCode: KafkaCode.INVALID_GROUP_ID, throttleTimeMs: 0, topics: [] };
    const topics: Response['topics'] = [];
    for (const t of req.topics) {
      const indexes = t.partitions.map((p) => p.partitionIndex);
      const known = ctx.broker.log.hasTopic(t.name) ? ctx.broker.log.partitionCount(t.name) : 0;
      const out = ctx.broker.groups.deleteOffsets(
        req.groupId,
        t.name,
        indexes.filter((i) => i >= 0 && i < known),
      );
      if (out.code !== 0) return { errorCode: out.code, throttleTimeMs: 0, topics: [] };
      let next = 0;
      topics.push({
        name: t.name,
        partitions: indexes.map((partitionIndex) => ({
          partitionIndex,
          errorCode:
            partitionIndex >= 0 && partitionIndex < known
              ? out.codes[next++]
              : KafkaCode.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      });
    }
    return { errorCode: 0, throttleTimeMs: 0, topics };
  },
});
