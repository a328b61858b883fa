// DeleteRecords (key 21), versions 0-2, flexible from 2. Moves partitions' log start offset
// forward (durably): records before it are no longer served, and whole segments below it are
// removed. Offset -1 means the high watermark (delete everything so far).
//
// DeleteRecords Request (Version: 2) => [topics] timeout_ms TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index offset TAG_BUFFER
// DeleteRecords Response (Version: 2) => throttle_time_ms [topics] TAG_BUFFER
//   topics => name [partitions] TAG_BUFFER
//     partitions => partition_index low_watermark error_code TAG_BUFFER

import { LogOffsetOutOfRangeError } from '../../log/index.js';
import { kafkaCodeOf } from '../append.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi, type RequestContext } from './api.js';

interface Request {
  topics: { name: string; partitions: { partitionIndex: number; offset: number }[] }[];
  timeoutMs: number;
}
interface PartitionResult {
  partitionIndex: number;
  lowWatermark: number;
  errorCode: number;
}
interface Response {
  throttleTimeMs: number;
  topics: { name: string; partitions: PartitionResult[] }[];
}

export const deleteRecordsApi = defineApi<Request, Response>({
  key: 21,
  name: 'DeleteRecords',
  versions: '0-2',
  flexible: '2+',
  request: [
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [field('partitionIndex', 'int32'), field('offset', 'int64')]),
    ]),
    field('timeoutMs', 'int32'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('topics', '0+', [
      field('name', 'string'),
      array('partitions', '0+', [
        field('partitionIndex', 'int32'),
        field('lowWatermark', 'int64'),
        field('errorCode', 'int16'),
      ]),
    ]),
  ],
  handle(req, ctx) {
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => deleteBefore(ctx, t.name, p.partitionIndex, p.offset)),
    }));
    return { throttleTimeMs: 0, topics };
  },
});

function deleteBefore(ctx: RequestContext, topic: string, index: number, offset: number): PartitionResult {
  const found = ctx.broker.topics.partition(topic, index);
  if (found.partition === null) return { partitionIndex: index, lowWatermark: -1, errorCode: found.code };
  const p = found.partition;
  try {
    const lowWatermark = p.deleteRecordsBefore(offset === -1 ? p.highWatermark : offset);
    return { partitionIndex: index, lowWatermark, errorCode: 0 };
  } catch (err) {
    const code = err instanceof LogOffsetOutOfRangeError ? KafkaCode.OFFSET_OUT_OF_RANGE : kafkaCodeOf(err);
    if (code !== KafkaCode.OFFSET_OUT_OF_RANGE) {
      ctx.broker.warn(`sluice broker: DeleteRecords on ${topic}-${index} failed: ${(err as Error).message}`);
    }
    return { partitionIndex: index, lowWatermark: -1, errorCode: code };
  }
}
