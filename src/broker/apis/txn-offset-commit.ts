// TxnOffsetCommit (key 28), versions 0-3, flexible from 3. Consumer offsets sent with a
// transaction: held by the transaction coordinator and committed to the group only when the
// transaction commits (dropped when it aborts). v3 carries the consumer's generation and member
// id, checked as OffsetCommit checks them.
//
// TxnOffsetCommit Request (Version: 3) => transactional_id group_id producer_id producer_epoch
//     generation_id member_id group_instance_id [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index committed_offset committed_leader_epoch committed_metadata TAG_BUFFER
// TxnOffsetCommit Response (Version: 3) => throttle_time_ms [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index error_code TAG_BUFFER

import { MAX_METADATA } from '../groups/coordinator.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { fencedCode } from './add-partitions-to-txn.js';
import { defineApi } from './api.js';

interface Request {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  generationId: number;
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

export const txnOffsetCommitApi = defineApi<Request, Response>({
  key: 28,
  name: 'TxnOffsetCommit',
  versions: '0-3',
  flexible: '3+',
  request: [
    field('transactionalId', 'string'),
    field('groupId', 'string'),
    field('producerId', 'int64'),
    field('producerEpoch', 'int16'),
    field('generationId', 'int32', '3+', { default: -1 }),
    field('memberId', 'string', '3+', { default: '' }),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [
        field('partitionIndex', 'int32'),
        field('committedOffset', 'int64'),
        field('committedLeaderEpoch', 'int32', '2+', { default: -1 }),
        field('committedMetadata', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [field('partitionIndex', 'int32'), field('errorCode', 'int16')]),
    ]),
  ],
  handle(req, ctx) {
    const { topics, groups, txns } = ctx.broker;
    const codes = req.topics.map((t) =>
      t.partitions.map((p) => {
        const code = topics.partition(t.name, p.partitionIndex).code;
        if (code !== 0) return code;
        const tooLarge =
          p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > MAX_METADATA;
        return tooLarge ? KafkaCode.OFFSET_METADATA_TOO_LARGE : 0;
      }),
    );
    // A consumer in a group (v3: generation >= 0) must be a current member, as for OffsetCommit.
    let shared =
      req.groupId === ''
        ? KafkaCode.INVALID_GROUP_ID
        : req.generationId >= 0
          ? groups.memberCheck(req.groupId, req.memberId, req.generationId)
          : 0;
    if (shared === 0) {
      const offsets = req.topics.flatMap((t, i) =>
        t.partitions
          .filter((_, j) => codes[i][j] === 0)
          .map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.committedMetadata,
          })),
      );
      shared = txns.commitOffsets(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        req.groupId,
        offsets,
        fencedCode(ctx.apiVersion, 3),
      );
    }
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t, i) => ({
        name: t.name,
        partitions: t.partitions.map((p, j) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codes[i][j] !== 0 ? codes[i][j] : shared,
        })),
      })),
    };
  },
});
