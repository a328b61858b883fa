// SyncGroup (key 14), versions 0-5, flexible from 4. The leader sends every member's
// assignment; followers wait for it. Always answers a valid (maybe empty) assignment.
//
// SyncGroup Request (Version: 5) => group_id generation_id member_id group_instance_id
//     protocol_type protocol_name [assignments] TAG_BUFFER
//   assignments => member_id assignment TAG_BUFFER
//   (group_instance_id: v3+, protocol_type and protocol_name: v5+)
// SyncGroup Response (Version: 5) => throttle_time_ms error_code protocol_type protocol_name
//     assignment TAG_BUFFER                  (throttle_time_ms: v1+, protocol_*: v5+)

import type { SyncOutcome } from '../groups/types.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}
type Response = SyncOutcome & { throttleTimeMs: number };

export const syncGroupApi = defineApi<Request, Response>({
  key: 14,
  name: 'SyncGroup',
  versions: '0-5',
  flexible: '4+',
  request: [
    field('groupId', 'string'),
    field('generationId', 'int32'),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    field('protocolType', 'string', '5+', { nullable: '5+', default: null }),
    field('protocolName', 'string', '5+', { nullable: '5+', default: null }),
    array('assignments', '0+', [field('memberId', 'string'), field('assignment', 'bytes')]),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
    field('protocolType', 'string', '5+', { nullable: '5+', default: null }),
    field('protocolName', 'string', '5+', { nullable: '5+', default: null }),
    field('assignment', 'bytes'),
  ],
  async handle(req, ctx) {
    const out = await ctx.broker.groups.sync(req);
    return { throttleTimeMs: 0, ...out };
  },
});
