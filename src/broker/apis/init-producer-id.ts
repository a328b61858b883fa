// InitProducerId (key 22), versions 0-4, flexible from 2. Gives idempotent producers an id and
// epoch (v3+: the same id with a bumped epoch when the producer presents its current one).
// With a transactional id, the transaction coordinator answers: the id's producer id with a
// new epoch, fencing older instances (PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before)
// and aborting the transaction they left open.
//
// InitProducerId Request (Version: 4) => transactional_id transaction_timeout_ms producer_id
//     producer_epoch TAG_BUFFER                      (producer_id, producer_epoch: v3+)
// InitProducerId Response (Version: 4) => throttle_time_ms error_code producer_id
//     producer_epoch TAG_BUFFER

import { KafkaCode } from '../protocol/error-codes.js';
import { field } from '../protocol/schema.js';
import { fencedCode } from './add-partitions-to-txn.js';
import { defineApi } from './api.js';

interface Request {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  producerId: number;
  producerEpoch: number;
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export const initProducerIdApi = defineApi<Request, Response>({
  key: 22,
  name: 'InitProducerId',
  versions: '0-4',
  flexible: '2+',
  request: [
    field('transactionalId', 'string', '0+', { nullable: '0+' }),
    field('transactionTimeoutMs', 'int32'),
    field('producerId', 'int64', '3+', { default: -1 }),
    field('producerEpoch', 'int16', '3+', { default: -1 }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('producerId', 'int64', '0+', { default: -1 }),
    field('producerEpoch', 'int16'),
  ],
  handle(req, ctx) {
    let r;
    try {
      r =
        req.transactionalId === null
          ? ctx.broker.producers.init(req.producerId, req.producerEpoch)
          : ctx.broker.txns.initProducerId(
              req.transactionalId,
              req.transactionTimeoutMs,
              req.producerId,
              req.producerEpoch,
              fencedCode(ctx.apiVersion, 4),
            );
    } catch (err) {
      // The id block could not be reserved on disk (full disk?): no id rather than a reusable one.
      ctx.broker.warn(`sluice broker: cannot reserve producer ids: ${(err as Error).message}`);
      r = { code: KafkaCode.KAFKA_STORAGE_ERROR, producerId: -1, producerEpoch: -1 };
    }
    return { throttleTimeMs: 0, errorCode: r.code, producerId: r.producerId, producerEpoch: r.producerEpoch };
  },
});
