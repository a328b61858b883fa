// OffsetCommit (key 8), versions 0-8, flexible from 8 (v0-1 for old clients such as sarama 1.22;
// v0 has no generation or member: it commits as a consumer outside any group). Stores offsets (with their metadata) in
// the log's OffsetStore, durably. Generation -1 with an empty member id commits for a consumer
// outside any group (kcat, manual assignment), allowed while the group has no members.
//
// OffsetCommit Request (Version: 8) => group_id generation_id member_id group_instance_id
//     [topics] TAG_BUFFER              (v2-4 also retention_time_ms; group_instance_id: v7+)
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index committed_offset committed_leader_epoch
//         committed_metadata TAG_BUFFER                    (committed_leader_epoch: v6+)
// OffsetCommit Response (Version: 8) => throttle_time_ms [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index error_code TAG_BUFFER   (throttle_time_ms: v3+)

import type { OffsetToCommit } from '../groups/coordinator.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; committedMetadata: string | null }[];
  }[];
}
interface Response {
  throttleTimeMs: number;
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

export const offsetCommitApi = defineApi<Request, Response>({
  key: 8,
  name: 'OffsetCommit',
  versions: '0-8',
  flexible: '8+',
  request: [
    field('groupId', 'string'),
    field('generationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
    field('memberId', 'string', '1+', { default: '' }),
    field('groupInstanceId', 'string', '7+', { nullable: '7+', default: null }),
    field('retentionTimeMs', 'int64', '2-4', { default: -1 }),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [
        field('partitionIndex', 'int32'),
        field('committedOffset', 'int64'),
        field('committedLeaderEpoch', 'int32', '6+', { default: -1 }),
        field('commitTimestamp', 'int64', '1', { default: -1 }),
        field('committedMetadata', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32', '3+'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [field('partitionIndex', 'int32'), field('errorCode', 'int16')]),
    ]),
  ],
  handle(req, ctx) {
    const { topics, groups } = ctx.broker;
    // Unknown partitions fail alone; the others are committed together in one durable write.
    const codes = req.topics.map((t) =>
      t.partitions.map((p) => topics.partition(t.name, p.partitionIndex).code),
    );
    const valid: OffsetToCommit[] = [];
    req.topics.forEach((t, i) =>
      t.partitions.forEach((p, j) => {
        if (codes[i][j] === 0) {
          valid.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.committedMetadata,
          });
        }
      }),
    );
    const results = groups.commit(req.groupId, req.memberId, req.generationIdOrMemberEpoch, valid);
    let k = 0;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t, i) => ({
        name: t.name,
        partitions: t.partitions.map((p, j) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codes[i][j] !== 0 ? codes[i][j] : results[k++],
        })),
      })),
    };
  },
});
