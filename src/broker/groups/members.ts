// A group member's state, and the protocol vote of a rebalance.

import { EMPTY_BUFFER, type JoinOutcome, type Protocol, type SyncOutcome } from './types.js';

export interface Member {
  readonly memberId: string;
  groupInstanceId: string | null;
  /** From the latest JoinGroup, for DescribeGroups. */
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Supported assignment protocols, most preferred first. */
  protocols: Protocol[];
  assignment: Buffer;
  /** Set while the member waits in JoinGroup for the rebalance to complete. */
  joinWaiter: ((r: JoinOutcome) => void) | null;
  /** Set while the member waits in SyncGroup for the leader's assignment. */
  syncWaiter: ((r: SyncOutcome) => void) | null;
  expiry: NodeJS.Timeout | undefined;
}

/** True when a rejoining member brings the very same protocols and metadata (a retry). */
export function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata));
}

/**
 * Kafka's vote: among the protocols every member supports, each member votes for the one it
 * prefers most; the most voted wins (ties: the first member's preference order).
 *
 * @example
 * electProtocol([{ protocols: [range, sticky] }, { protocols: [sticky, range] }, { protocols: [sticky] }]); // 'sticky'
 */
export function electProtocol(members: readonly Pick<Member, 'protocols'>[]): string {
  const common = members[0].protocols
    .map((p) => p.name)
    .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
  const votes = new Map<string, number>(common.map((name) => [name, 0]));
  for (const m of members) {
    const choice = m.protocols.find((p) => votes.has(p.name))?.name ?? common[0];
    votes.set(choice, (votes.get(choice) ?? 0) + 1);
  }
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

/** A successful JoinGroup answer for `member`: the leader also gets every member's metadata. */
export function joinOutcome(
  member: Member,
  group: {
    generationId: number;
    protocolType: string | null;
    protocolName: string | null;
    leaderId: string | null;
  },
  members: readonly Member[],
): JoinOutcome {
  return {
    errorCode: 0,
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leader: group.leaderId ?? '',
    memberId: member.memberId,
    members:
      member.memberId === group.leaderId
        ? members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY_BUFFER,
          }))
        : [],
  };
}
