// EndTxn (key 26), versions 0-3, flexible from 3 (v4+, KIP-890, not advertised). Commits or
// aborts the producer's transaction: the markers are written to every partition in it (and
// its consumer offsets committed) before the answer. A retried EndTxn of an ended transaction
// succeeds again; an EndTxn with no transaction gets INVALID_TXN_STATE.
//
// EndTxn Request (Version: 3) => transactional_id producer_id producer_epoch committed TAG_BUFFER
// EndTxn Response (Version: 3) => throttle_time_ms error_code TAG_BUFFER

import { field } from '../protocol/schema.js';
import { fencedCode } from './add-partitions-to-txn.js';
import { defineApi } from './api.js';

interface Request {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  committed: boolean;
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
}

export const endTxnApi = defineApi<Request, Response>({
  key: 26,
  name: 'EndTxn',
  versions: '0-3',
  flexible: '3+',
  request: [
    field('transactionalId', 'string'),
    field('producerId', 'int64'),
    field('producerEpoch', 'int16'),
    field('committed', 'bool'),
  ],
  response: [field('throttleTimeMs', 'int32'), field('errorCode', 'int16')],
  handle(req, ctx) {
    const errorCode = ctx.broker.txns.endTxn(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
      fencedCode(ctx.apiVersion, 2),
    );
    return { throttleTimeMs: 0, errorCode };
  },
});
