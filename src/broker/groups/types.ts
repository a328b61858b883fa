// Shapes shared by the group coordinator and the group APIs.

export interface Protocol {
  name: string;
  metadata: Buffer;
}

/** A JoinGroup request as the coordinator needs it (any version). */
export interface JoinParams {
  groupId: string;
  sessionTimeoutMs: number;
  /** -1 before v1: the session timeout is used. */
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: Protocol[];
  clientId: string;
  /** The member's address, for DescribeGroups. */
  clientHost?: string;
  /** v4+ clients get MEMBER_ID_REQUIRED and rejoin with the id handed out. */
  requireKnownMemberId: boolean;
}

export interface JoinOutcome {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncParams {
  groupId: string;
  generationId: number;
  memberId: string;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncOutcome {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const EMPTY_BUFFER = Buffer.alloc(0);

export function joinError(errorCode: number, memberId = ''): JoinOutcome {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncOutcome {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
}
