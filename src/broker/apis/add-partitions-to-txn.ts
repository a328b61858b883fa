// AddPartitionsToTxn (key 24), versions 0-3, flexible from 3 (v4+ batches transactions for
// brokers, KIP-890, and is not advertised). Adds partitions to the producer's transaction.
// A fenced producer gets PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before (KIP-588).
//
// AddPartitionsToTxn Request (Version: 3) => transactional_id producer_id producer_epoch
//     [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
// AddPartitionsToTxn Response (Version: 3) => throttle_time_ms [results] TAG_BUFFER
//   results => name [results] TAG_BUFFER
//     results => partition_index partition_error_code TAG_BUFFER

import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  topics: { name: string; partitions: number[] }[];
}
interface Response {
  throttleTimeMs: number;
  results: { name: string; results: { partitionIndex: number; partitionErrorCode: number }[] }[];
}

/** The code that tells a producer a newer instance with its transactional id exists. */
export function fencedCode(version: number, fromVersion: number): number {
  return version >= fromVersion ? KafkaCode.PRODUCER_FENCED : KafkaCode.INVALID_PRODUCER_EPOCH;
}

export const addPartitionsToTxnApi = defineApi<Request, Response>({
  key: 24,
  name: 'AddPartitionsToTxn',
  versions: '0-3',
  flexible: '3+',
  request: [
    field('transactionalId', 'string'),
    field('producerId', 'int64'),
    field('producerEpoch', 'int16'),
    array('topics', '0+', [field('name', 'string'), field('partitions', '[]int32')]),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', '0+', [
      field('name', 'string'),
      array('results', '0+', [field('partitionIndex', 'int32'), field('partitionErrorCode', 'int16')]),
    ]),
  ],
  handle(req, ctx) {
    const wanted = req.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
    const codes = ctx.broker.txns.addPartitions(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      wanted,
      fencedCode(ctx.apiVersion, 2),
    );
    let i = 0;
    return {
      throttleTimeMs: 0,
      results: req.topics.map((t) => ({
        name: t.name,
        results: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: codes[i++] })),
      })),
    };
  },
});
