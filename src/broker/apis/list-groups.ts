// ListGroups (key 16), versions 0-4, flexible from 3; v4 filters by state and reports it.
// Lists groups with members and groups that only have committed offsets (Empty, as Kafka).
//
// ListGroups Request (Version: 4) => [states_filter] TAG_BUFFER      (states_filter: v4+)
// ListGroups Response (Version: 4) => throttle_time_ms error_code [groups] TAG_BUFFER
//   groups => group_id protocol_type group_state TAG_BUFFER          (group_state: v4+)

import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  statesFilter: string[];
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
  groups: { groupId: string; protocolType: string; groupState: string }[];
}

export const listGroupsApi = defineApi<Request, Response>({
  key: 16,
  name: 'ListGroups',
  versions: '0-4',
  flexible: '3+',
  request: [field('statesFilter', '[]string', '4+')],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
    array('groups', '0+', [
      field('groupId', 'string'),
      field('protocolType', 'string'),
      field('groupState', 'string', '4+'),
    ]),
  ],
  handle(req, ctx) {
    // State names compare case-insensitively, as Kafka's do.
    const wanted = new Set(req.statesFilter.map((s) => s.toLowerCase()));
    const groups = ctx.broker.groups
      .listGroups()
      .filter((g) => wanted.size === 0 || wanted.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state }));
    return { throttleTimeMs: 0, errorCode: 0, groups };
  },
});
