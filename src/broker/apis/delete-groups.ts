// DeleteGroups (key 42), versions 0-2, flexible from 2. Deletes consumer groups that have no
// live member: their committed offsets go. A group with members is NON_EMPTY_GROUP (68), one
// the broker does not know GROUP_ID_NOT_FOUND (69).
//
// DeleteGroups Request (Version: 2) => [groups_names] TAG_BUFFER
// DeleteGroups Response (Version: 2) => throttle_time_ms [results] TAG_BUFFER
//   results => group_id error_code TAG_BUFFER

import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  groupsNames: string[];
}
interface Response {
  throttleTimeMs: number;
  results: { groupId: string; errorCode: number }[];
}

export const deleteGroupsApi = defineApi<Request, Response>({
  key: 42,
  name: 'DeleteGroups',
  versions: '0-2',
  flexible: '2+',
  request: [field('groupsNames', '[]string')],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', '0+', [field('groupId', 'string'), field('errorCode', 'int16')]),
  ],
  handle(req, ctx) {
    const results = req.groupsNames.map((groupId) => ({
      groupId,
      errorCode: ctx.broker.groups.deleteGroup(groupId),
    }));
    return { throttleTimeMs: 0, results };
  },
});
