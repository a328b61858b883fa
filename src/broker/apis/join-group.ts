// JoinGroup (key 11), versions 0-9, flexible from 6. v4+ members joining with an empty id get
// MEMBER_ID_REQUIRED (79) and a generated id to rejoin with. The answer waits until the
// rebalance completes; the leader gets every member's metadata for the elected protocol.
//
// JoinGroup Request (Version: 9) => group_id session_timeout_ms rebalance_timeout_ms member_id
//     group_instance_id protocol_type [protocols] reason TAG_BUFFER
//   protocols => name metadata TAG_BUFFER
//   (rebalance_timeout_ms: v1+, group_instance_id: v5+, reason: v8+)
// JoinGroup Response (Version: 9) => throttle_time_ms error_code generation_id protocol_type
//     protocol_name leader skip_assignment member_id [members] TAG_BUFFER
//   members => member_id group_instance_id metadata TAG_BUFFER
//   (throttle_time_ms: v2+, protocol_type: v7+, skip_assignment: v9+, group_instance_id: v5+)

import type { JoinOutcome, Protocol } from '../groups/types.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: Protocol[];
}
type Response = JoinOutcome & { throttleTimeMs: number; skipAssignment: boolean };

export const joinGroupApi = defineApi<Request, Response>({
  key: 11,
  name: 'JoinGroup',
  versions: '0-9',
  flexible: '6+',
  request: [
    field('groupId', 'string'),
    field('sessionTimeoutMs', 'int32'),
    field('rebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
    field('protocolType', 'string'),
    array('protocols', '0+', [field('name', 'string'), field('metadata', 'bytes')]),
    field('reason', 'string', '8+', { nullable: '8+', default: null }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '2+'),
    field('errorCode', 'int16'),
    field('generationId', 'int32', '0+', { default: -1 }),
    field('protocolType', 'string', '7+', { nullable: '7+', default: null }),
    field('protocolName', 'string', '0+', { nullable: '7+' }),
    field('leader', 'string'),
    field('skipAssignment', 'bool', '9+'),
    field('memberId', 'string'),
    array('members', '0+', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
      field('metadata', 'bytes'),
    ]),
  ],
  async handle(req, ctx) {
    const out = await ctx.broker.groups.join({
      groupId: req.groupId,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      // Copied: the group keeps them past this request's frame.
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      clientId: ctx.clientId ?? '',
      // Kafka shows the address without the port, after a slash.
      clientHost: `/${ctx.conn.remoteAddress.replace(/:\d+$/, '').replace(/^::ffff:/, '')}`,
      requireKnownMemberId: ctx.apiVersion >= 4,
    });
    return { throttleTimeMs: 0, skipAssignment: false, ...out };
  },
});
