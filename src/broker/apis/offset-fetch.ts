// OffsetFetch (key 9), versions 1-8, flexible from 6; v8 asks for several groups at once.
// Offset -1 means nothing committed; leader epoch is always -1 (so librdkafka skips
// OffsetForLeaderEpoch validation). A null topic list (v2+) means every committed partition.
//
// OffsetFetch Request (Version: 8) => [groups] require_stable TAG_BUFFER
//   groups => group_id [topics] TAG_BUFFER
//     topics => name [partition_indexes] TAG_BUFFER
//   (v1-7: group_id [topics] require_stable; require_stable: v7+)
// OffsetFetch Response (Version: 8) => throttle_time_ms [groups] TAG_BUFFER
//   groups => group_id [topics] error_code TAG_BUFFER
//     topics => name [partitions] TAG_BUFFER
//       partitions => partition_index committed_offset committed_leader_epoch metadata
//           error_code TAG_BUFFER
//   (v1-7: throttle_time_ms [topics] error_code; throttle_time_ms: v3+, error_code: v2+)

import { array, field, type FieldDef } from '../protocol/schema.js';
import { defineApi, type RequestContext } from './api.js';

type TopicsWanted = { name: string; partitionIndexes: number[] }[] | null;
interface Request {
  groupId: string;
  topics: TopicsWanted;
  groups: { groupId: string; topics: TopicsWanted }[];
}
interface PartitionOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}
type TopicOffsets = { name: string; partitions: PartitionOffset[] }[];
interface Response {
  throttleTimeMs: number;
  topics: TopicOffsets;
  errorCode: number;
  groups: { groupId: string; topics: TopicOffsets; errorCode: number }[];
}

function offsetsOf(groupId: string, wanted: TopicsWanted, ctx: RequestContext): TopicOffsets {
  const { groups } = ctx.broker;
  const list =
    wanted ??
    groups.committedPartitions(groupId).map((t) => ({ name: t.topic, partitionIndexes: t.partitions }));
  return list.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => {
      const c = groups.committed(groupId, t.name, p);
      return {
        partitionIndex: p,
        committedOffset: c.offset,
        committedLeaderEpoch: -1,
        metadata: c.metadata,
        errorCode: 0,
      };
    }),
  }));
}

function partitionFields(versions: string, epochVersions: string): FieldDef[] {
  return [
    field('partitionIndex', 'int32', versions),
    field('committedOffset', 'int64', versions),
    field('committedLeaderEpoch', 'int32', epochVersions, { default: -1 }),
    field('metadata', 'string', versions, { nullable: versions }),
    field('errorCode', 'int16', versions),
  ];
}

export const offsetFetchApi = defineApi<Request, Response>({
  key: 9,
  name: 'OffsetFetch',
  versions: '1-8',
  flexible: '6+',
  request: [
    field('groupId', 'string', '0-7'),
    array('topics', '0-7', [field('name', 'string', '0-7'), field('partitionIndexes', '[]int32', '0-7')], {
      nullable: '2-7',
    }),
    array('groups', '8+', [
      field('groupId', 'string', '8+'),
      field('memberId', 'string', '9+', { nullable: '9+', default: null }),
      field('memberEpoch', 'int32', '9+', { default: -1 }),
      array('topics', '8+', [field('name', 'string', '8+'), field('partitionIndexes', '[]int32', '8+')], {
        nullable: '8+',
      }),
    ]),
    field('requireStable', 'bool', '7+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '3+'),
    array('topics', '0-7', [
      field('name', 'string', '0-7'),
      array('partitions', '0-7', partitionFields('0-7', '5-7')),
    ]),
    field('errorCode', 'int16', '2-7'),
    array('groups', '8+', [
      field('groupId', 'string', '8+'),
      array('topics', '8+', [
        field('name', 'string', '8+'),
        array('partitions', '8+', partitionFields('8+', '8+')),
      ]),
      field('errorCode', 'int16', '8+'),
    ]),
  ],
  handle(req, ctx) {
    if (ctx.apiVersion >= 8) {
      const groups = req.groups.map((g) => ({
        groupId: g.groupId,
        topics: offsetsOf(g.groupId, g.topics, ctx),
        errorCode: 0,
      }));
      return { throttleTimeMs: 0, topics: [], errorCode: 0, groups };
    }
    return { throttleTimeMs: 0, topics: offsetsOf(req.groupId, req.topics, ctx), errorCode: 0, groups: [] };
  },
});
