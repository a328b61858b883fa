// Heartbeat (key 12), versions 0-4, flexible from 4. Keeps a member's session alive; answers
// REBALANCE_IN_PROGRESS (27) when the member must rejoin.
//
// Heartbeat Request (Version: 4) => group_id generation_id member_id group_instance_id TAG_BUFFER
// Heartbeat Response (Version: 4) => throttle_time_ms error_code TAG_BUFFER

import { field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  groupId: string;
  generationId: number;
  memberId: string;
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
}

export const heartbeatApi = defineApi<Request, Response>({
  key: 12,
  name: 'Heartbeat',
  versions: '0-4',
  flexible: '4+',
  request: [
    field('groupId', 'string'),
    field('generationId', 'int32'),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  ],
  response: [field('throttleTimeMs', 'int32', '1+'), field('errorCode', 'int16')],
  handle(req, ctx) {
    return {
      throttleTimeMs: 0,
      errorCode: ctx.broker.groups.heartbeat(req.groupId, req.memberId, req.generationId),
    };
  },
});
