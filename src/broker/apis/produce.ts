// Produce (key 0), versions 3-9, flexible from 9. One RecordBatch v2 per partition, stored as
// sent (only baseOffset and partitionLeaderEpoch change). A transactional producer's batches
// (transactional_id set) must belong to a partition added to its open transaction. acks=0 gets no response at all; if
// it failed, the connection is closed instead (Kafka's way of telling such producers).
// v0-2 (message sets of magic 0/1) are advertised but refused with UNSUPPORTED_VERSION per
// partition, as Kafka does since KAFKA-18659: librdkafka compresses only when the advertised
// range includes v0 (its gzip/snappy/lz4 check wants v0-v2), and would otherwise send plain.
//
// Produce Request (Version: 9) => transactional_id acks timeout_ms [topic_data] TAG_BUFFER
//   transactional_id => COMPACT_NULLABLE_STRING
//   topic_data => name [partition_data] TAG_BUFFER
//     partition_data => index records TAG_BUFFER
//       records => COMPACT_RECORDS
// Produce Response (Version: 9) => [responses] throttle_time_ms TAG_BUFFER
//   responses => name [partition_responses] TAG_BUFFER
//     partition_responses => index error_code base_offset log_append_time_ms log_start_offset
//         [record_errors] error_message TAG_BUFFER          (record_errors, error_message: v8+)
//       record_errors => batch_index batch_index_error_message TAG_BUFFER

import { appendProducerBatch } from '../append.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi, NO_RESPONSE, type RequestContext } from './api.js';

interface Request {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
}
interface PartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  errorMessage: string | null;
}
interface Response {
  responses: { name: string; partitionResponses: PartitionResponse[] }[];
  throttleTimeMs: number;
}

export const produceApi = defineApi<Request, Response>({
  key: 0,
  name: 'Produce',
  versions: '0-9',
  flexible: '9+',
  request: [
    field('transactionalId', 'string', '3+', { nullable: '3+', default: null }),
    field('acks', 'int16'),
    field('timeoutMs', 'int32'),
    array('topicData', '0+', [
      field('name', 'string'),
      array('partitionData', '0+', [
        field('index', 'int32'),
        field('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  response: [
    array('responses', '0+', [
      field('name', 'string'),
      array('partitionResponses', '0+', [
        field('index', 'int32'),
        field('errorCode', 'int16'),
        field('baseOffset', 'int64'),
        field('logAppendTimeMs', 'int64', '2+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        array('recordErrors', '8+', [
          field('batchIndex', 'int32'),
          field('batchIndexErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
        ]),
        field('errorMessage', 'string', '8+', { nullable: '8+', default: null }),
      ]),
    ]),
    field('throttleTimeMs', 'int32', '1+'),
  ],
  handle(req, ctx) {
    const refusal = refuse(req, ctx.apiVersion);
    const responses = req.topicData.map((t) => {
      const topic = refusal ?? { code: ctx.broker.topics.count(t.name, true).code, message: null };
      return {
        name: t.name,
        partitionResponses: t.partitionData.map((p) =>
          producePartition(ctx, req.transactionalId, t.name, topic, p.index, p.records),
        ),
      };
    });
    if (req.acks === 0) {
      // With no response to carry an error, Kafka closes the connection so the producer notices.
      if (responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== 0)))
        ctx.conn.closeAfterResponse();
      return NO_RESPONSE;
    }
    return { responses, throttleTimeMs: 0 };
  },
});

/** Why the whole request is refused, or null. */
function refuse(req: Request, version: number): { code: number; message: string } | null {
  if (version < 3) {
    return {
      code: KafkaCode.UNSUPPORTED_VERSION,
      message: `Produce v${version} (message format v0/v1) is not supported: use v3+ (RecordBatch v2)`,
    };
  }
  if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
    return { code: KafkaCode.INVALID_REQUIRED_ACKS, message: `acks ${req.acks} is invalid: use 0, 1 or -1` };
  }
  return null;
}

function producePartition(
  ctx: RequestContext,
  transactionalId: string | null,
  topic: string,
  status: { code: number; message: string | null },
  index: number,
  records: Buffer | null,
): PartitionResponse {
  const failed = (code: number, message: string | null): PartitionResponse => ({
    index,
    errorCode: code,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    errorMessage: message,
  });
  if (status.code !== 0) return failed(status.code, status.message);
  const found = ctx.broker.topics.partition(topic, index);
  if (found.partition === null) return failed(found.code, null);
  const out = appendProducerBatch(ctx.broker, topic, index, found.partition, records, transactionalId);
  if (out.code !== 0) return failed(out.code, out.message);
  return {
    index,
    errorCode: 0,
    baseOffset: out.baseOffset,
    logAppendTimeMs: -1,
    logStartOffset: found.partition.logStartOffset,
    errorMessage: null,
  };
}
