// InitProducerId (key 22), versions 0-4, flexible from 2. Gives idempotent producers an id and
// epoch (v3+: the same id with a bumped epoch when the producer presents its current one).
// Transactional ids are refused: this broker has no transactions.
//
// InitProducerId Request (Version: 4) => transactional_id transaction_timeout_ms producer_id
//     producer_epoch TAG_BUFFER                      (producer_id, producer_epoch: v3+)
// InitProducerId Response (Version: 4) => throttle_time_ms error_code producer_id
//     producer_epoch TAG_BUFFER

import { KafkaCode } from '../protocol/error-codes.js';
import { field } from '../protocol/schema.js';
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
    if (req.transactionalId !== null) {
      return {
        throttleTimeMs: 0,
        errorCode: KafkaCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    let r;
    try {
      r = ctx.broker.producers.init(req.producerId, req.producerEpoch);
    } catch (err) {
      // The id block could not be reserved on disk (full disk?): no id rather than a reusable one.
      ctx.broker.warn(`sluice broker: cannot reserve producer ids: ${(err as Error).message}`);
      r = { code: KafkaCode.KAFKA_STORAGE_ERROR, producerId: -1, producerEpoch: -1 };
    }
    return { throttleTimeMs: 0, errorCode: r.code, producerId: r.producerId, producerEpoch: r.producerEpoch };
  },
});
