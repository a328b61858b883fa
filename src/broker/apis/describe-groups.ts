// DescribeGroups (key 15), versions 0-5, flexible from 5. State, protocol and members of each
// group (metadata and assignment once the group is stable, as Kafka); a group the broker
// does not know is 'Dead' with no members (v6's GROUP_ID_NOT_FOUND is not advertised).
//
// DescribeGroups Request (Version: 5) => [groups] include_authorized_operations TAG_BUFFER
// DescribeGroups Response (Version: 5) => throttle_time_ms [groups] TAG_BUFFER
//   groups => error_code group_id group_state protocol_type protocol_data [members]
//       authorized_operations TAG_BUFFER                       (authorized_operations: v3+)
//     members => member_id group_instance_id client_id client_host member_metadata
//         member_assignment TAG_BUFFER                         (group_instance_id: v4+)

import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';
import type { GroupDescription } from '../groups/group.js';

interface Request {
  groups: string[];
  includeAuthorizedOperations: boolean;
}
type Described = Omit<GroupDescription, 'state'> & {
  errorCode: number;
  groupId: string;
  groupState: string;
  authorizedOperations: number;
};
interface Response {
  throttleTimeMs: number;
  groups: Described[];
}

/** Kafka's "not requested" value for authorized operations. */
const NOT_REQUESTED = -2147483648;

export const describeGroupsApi = defineApi<Request, Response>({
  key: 15,
  name: 'DescribeGroups',
  versions: '0-5',
  flexible: '5+',
  request: [field('groups', '[]string'), field('includeAuthorizedOperations', 'bool', '3+')],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    array('groups', '0+', [
      field('errorCode', 'int16'),
      field('groupId', 'string'),
      field('groupState', 'string'),
      field('protocolType', 'string'),
      field('protocolData', 'string'),
      array('members', '0+', [
        field('memberId', 'string'),
        field('groupInstanceId', 'string', '4+', { nullable: '4+', default: null }),
        field('clientId', 'string'),
        field('clientHost', 'string'),
        field('memberMetadata', 'bytes'),
        field('memberAssignment', 'bytes'),
      ]),
      field('authorizedOperations', 'int32', '3+', { default: NOT_REQUESTED }),
    ]),
  ],
  handle(req, ctx) {
    const groups = req.groups.map((groupId): Described => {
      if (groupId === '') {
        return {
          errorCode: KafkaCode.INVALID_GROUP_ID,
          groupId,
          groupState: '',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: NOT_REQUESTED,
        };
      }
      const d = ctx.broker.groups.describeGroup(groupId);
      return {
        errorCode: 0,
        groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: d.protocolData,
        members: d.members,
        authorizedOperations: NOT_REQUESTED,
      };
    });
    return { throttleTimeMs: 0, groups };
  },
});
