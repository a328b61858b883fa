// AddOffsetsToTxn (key 25), versions 0-3, flexible from 3. Puts a consumer group's offsets in
// the producer's transaction (sendOffsetsToTransaction's first step; TxnOffsetCommit follows).
//
// AddOffsetsToTxn Request (Version: 3) => transactional_id producer_id producer_epoch group_id TAG_BUFFER
// AddOffsetsToTxn Response (Version: 3) => throttle_time_ms error_code TAG_BUFFER

import { field } from '../protocol/schema.js';
import { fencedCode } from './add-partitions-to-txn.js';
import { defineApi } from './api.js';

interface Request {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  groupId: string;
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
}

export const addOffsetsToTxnApi = defineApi<Request, Response>({
  key: 25,
  name: 'AddOffsetsToTxn',
  versions: '0-3',
  flexible: '3+',
  request: [
    field('transactionalId', 'string'),
    field('producerId', 'int64'),
    field('producerEpoch', 'int16'),
    field('groupId', 'string'),
  ],
  response: [field('throttleTimeMs', 'int32'), field('errorCode', 'int16')],
  handle(req, ctx) {
    const errorCode = ctx.broker.txns.addOffsets(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.groupId,
      fencedCode(ctx.apiVersion, 2),
    );
    return { throttleTimeMs: 0, errorCode };
  },
});
