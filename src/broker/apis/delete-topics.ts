// DeleteTopics (key 20), versions 1-6, flexible from 4. Deletes topics by name (v6 names or
// ids; this broker keeps no topic ids, so an id alone is UNKNOWN_TOPIC_ID).
//
// DeleteTopics Request (Version: 6) => [topics] timeout_ms TAG_BUFFER
//   topics => name topic_id TAG_BUFFER        (v1-5: [topic_names] timeout_ms)
// DeleteTopics Response (Version: 6) => throttle_time_ms [responses] TAG_BUFFER
//   responses => name topic_id error_code error_message TAG_BUFFER   (error_message: v5+)

import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  topics: { name: string | null; topicId: Buffer }[];
  topicNames: string[];
  timeoutMs: number;
}
interface Result {
  name: string | null;
  topicId?: Buffer;
  errorCode: number;
  errorMessage: string | null;
}
interface Response {
  throttleTimeMs: number;
  responses: Result[];
}

export const deleteTopicsApi = defineApi<Request, Response>({
  key: 20,
  name: 'DeleteTopics',
  versions: '1-6',
  flexible: '4+',
  request: [
    array('topics', '6+', [
      field('name', 'string', '6+', { nullable: '6+', default: null }),
      field('topicId', 'uuid', '6+'),
    ]),
    field('topicNames', '[]string', '0-5'),
    field('timeoutMs', 'int32'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    array('responses', '0+', [
      field('name', 'string', '0+', { nullable: '6+' }),
      field('topicId', 'uuid', '6+'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '5+', { nullable: '5+', default: null }),
    ]),
  ],
  handle(req, ctx) {
    const wanted =
      ctx.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: undefined }));
    const responses = wanted.map((t): Result => {
      if (t.name === null) {
        return {
          name: null,
          topicId: t.topicId,
          errorCode: KafkaCode.UNKNOWN_TOPIC_ID,
          errorMessage: 'this broker keeps no topic ids: delete by name',
        };
      }
      const r = ctx.broker.topics.delete(t.name);
      return { name: t.name, topicId: t.topicId, errorCode: r.code, errorMessage: r.message };
    });
    return { throttleTimeMs: 0, responses };
  },
});
