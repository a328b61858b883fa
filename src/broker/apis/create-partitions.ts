// CreatePartitions (key 37), versions 0-3, flexible from 2. Raises topics' partition counts
// (never lowers them). Replica assignments name brokers; on this single broker only node 0
// (or no assignment) is valid.
//
// CreatePartitions Request (Version: 3) => [topics] timeout_ms validate_only TAG_BUFFER
//   topics => name count [assignments] TAG_BUFFER          (assignments: nullable)
//     assignments => [broker_ids] TAG_BUFFER
// CreatePartitions Response (Version: 3) => throttle_time_ms [results] TAG_BUFFER
//   results => name error_code error_message TAG_BUFFER

import { NODE_ID } from '../options.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  topics: { name: string; count: number; assignments: { brokerIds: number[] }[] | null }[];
  timeoutMs: number;
  validateOnly: boolean;
}
interface Response {
  throttleTimeMs: number;
  results: { name: string; errorCode: number; errorMessage: string | null }[];
}

export const createPartitionsApi = defineApi<Request, Response>({
  key: 37,
  name: 'CreatePartitions',
  versions: '0-3',
  flexible: '2+',
  request: [
    array('topics', '0+', [
      field('name', 'string'),
      field('count', 'int32'),
      array('assignments', '0+', [field('brokerIds', '[]int32')], { nullable: '0+' }),
    ]),
    field('timeoutMs', 'int32'),
    field('validateOnly', 'bool'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', '0+', [
      field('name', 'string'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    ]),
  ],
  handle(req, ctx) {
    const seen = new Set<string>();
    const results = req.topics.map((t) => {
      if (seen.has(t.name)) {
        return {
          name: t.name,
          errorCode: KafkaCode.INVALID_REQUEST,
          errorMessage: `topic ${t.name} is named twice`,
        };
      }
      seen.add(t.name);
      const badAssignment = (t.assignments ?? []).some((a) => a.brokerIds.some((id) => id !== NODE_ID));
      if (badAssignment) {
        return {
          name: t.name,
          errorCode: KafkaCode.INVALID_REPLICA_ASSIGNMENT,
          errorMessage: `this single broker is node ${NODE_ID}; assign partitions to it or leave assignments out`,
        };
      }
      const r = ctx.broker.topics.addPartitions(t.name, t.count, req.validateOnly);
      return { name: t.name, errorCode: r.code, errorMessage: r.message };
    });
    return { throttleTimeMs: 0, results };
  },
});
