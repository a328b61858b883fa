// LeaveGroup (key 13), versions 0-5, flexible from 4. v3+ removes several members at once
// (by member id, or by group instance id for static members) with one error code each.
//
// LeaveGroup Request (Version: 5) => group_id [members] TAG_BUFFER
//   members => member_id group_instance_id reason TAG_BUFFER     (v0-2: group_id member_id)
// LeaveGroup Response (Version: 5) => throttle_time_ms error_code [members] TAG_BUFFER
//   members => member_id group_instance_id error_code TAG_BUFFER  (members: v3+)

import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Identity {
  memberId: string;
  groupInstanceId: string | null;
}
interface Request {
  groupId: string;
  memberId: string;
  members: Identity[];
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
  members: (Identity & { errorCode: number })[];
}

export const leaveGroupApi = defineApi<Request, Response>({
  key: 13,
  name: 'LeaveGroup',
  versions: '0-5',
  flexible: '4+',
  request: [
    field('groupId', 'string'),
    field('memberId', 'string', '0-2'),
    array('members', '3+', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
      field('reason', 'string', '5+', { nullable: '5+', default: null }),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
    array('members', '3+', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', '3+', { nullable: '3+' }),
      field('errorCode', 'int16'),
    ]),
  ],
  handle(req, ctx) {
    const { groups } = ctx.broker;
    if (ctx.apiVersion < 3) {
      return { throttleTimeMs: 0, errorCode: groups.leave(req.groupId, req.memberId), members: [] };
    }
    const members = req.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: groups.leave(req.groupId, m.memberId, m.groupInstanceId),
    }));
    return { throttleTimeMs: 0, errorCode: 0, members };
  },
});
