// One consumer group of the classic rebalance protocol, as a state machine:
//
//   Empty --join--> PreparingRebalance --all known members joined, or rebalance timeout-->
//   CompletingRebalance --leader's SyncGroup--> Stable --join/leave/session expiry--> PreparingRebalance
//
// JoinGroup and SyncGroup answers are promises resolved when the rebalance step completes;
// members that do not rejoin within the rebalance timeout, or stop heartbeating for their
// session timeout, are removed.

import { randomUUID } from 'node:crypto';
import { KafkaCode } from '../protocol/error-codes.js';
import { electProtocol, joinOutcome, sameProtocols, type Member } from './members.js';
import {
  EMPTY_BUFFER,
  joinError,
  syncError,
  type JoinOutcome,
  type JoinParams,
  type SyncOutcome,
  type SyncParams,
} from './types.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

/** A group as DescribeGroups reports it. */
export interface GroupDescription {
  state: GroupState | 'Dead';
  protocolType: string;
  /** The chosen assignment protocol, when stable. */
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

/**
 * A consumer group's membership and generations.
 *
 * @example
 * const g = new Group('scorers', { initialRebalanceDelayMs: 0 });
 * const joined = await g.join({ groupId: 'scorers', memberId: '', requireKnownMemberId: false, ... });
 */
export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  private readonly members = new Map<string, Member>();
  /** Ids handed out with MEMBER_ID_REQUIRED, expected back soon. */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private deadline: NodeJS.Timeout | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  private notBefore = 0;

  constructor(
    readonly groupId: string,
    private readonly settings: { initialRebalanceDelayMs: number },
  ) {}

  /** True when nothing refers to the group any more (it can be forgotten). */
  get idle(): boolean {
    return this.members.size === 0 && this.pending.size === 0 && this.state === 'Empty';
  }

  memberIds(): string[] {
    return [...this.members.keys()];
  }

  /** What DescribeGroups shows: members with their chosen protocol's metadata and their assignment. */
  describe(): GroupDescription {
    const stable = this.state === 'Stable';
    return {
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocolData: stable ? (this.protocolName ?? '') : '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        // As Kafka: metadata and assignment only once the group is stable.
        memberMetadata: stable
          ? (m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY_BUFFER)
          : EMPTY_BUFFER,
        memberAssignment: stable ? m.assignment : EMPTY_BUFFER,
      })),
    };
  }

  /** The metadata members sent for the group's protocol (consumer subscriptions), one per member. */
  memberProtocolMetadata(): Buffer[] {
    return [...this.members.values()].map(
      (m) =>
        m.protocols.find((p) => p.name === this.protocolName)?.metadata ??
        m.protocols[0]?.metadata ??
        EMPTY_BUFFER,
    );
  }

  join(req: JoinParams): JoinOutcome | Promise<JoinOutcome> {
    if (req.protocolType === '' || req.protocols.length === 0 || !this.accepts(req)) {
      return joinError(KafkaCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);
    }
    if (req.memberId === '') {
      const memberId = `${req.clientId || 'member'}-${randomUUID()}`;
      if (req.groupInstanceId !== null) this.fenceInstance(req.groupInstanceId);
      else if (req.requireKnownMemberId) {
        const timer = setTimeout(() => {
          this.pending.delete(memberId);
          this.maybeCompleteJoin();
        }, req.sessionTimeoutMs);
        this.pending.set(memberId, timer);
        return joinError(KafkaCode.MEMBER_ID_REQUIRED, memberId);
      }
      return this.addMember(memberId, req);
    }
    const pending = this.pending.get(req.memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.pending.delete(req.memberId);
      return this.addMember(req.memberId, req);
    }
    const member = this.members.get(req.memberId);
    if (member === undefined) return joinError(KafkaCode.UNKNOWN_MEMBER_ID, req.memberId);
    const changed = !sameProtocols(member.protocols, req.protocols);
    Object.assign(member, {
      protocols: req.protocols,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    });
    this.touch(member);
    // A follower rejoining unchanged (a retry) gets the current generation back; anything
    // else, including the leader rejoining, starts a rebalance.
    if (
      !changed &&
      (this.state === 'CompletingRebalance' || (this.state === 'Stable' && member.memberId !== this.leaderId))
    ) {
      return this.joinOutcome(member);
    }
    const answer = this.awaitJoin(member);
    this.prepareRebalance();
    this.maybeCompleteJoin();
    return answer;
  }

  sync(req: SyncParams): SyncOutcome | Promise<SyncOutcome> {
    const member = this.members.get(req.memberId);
    if (member === undefined) return syncError(KafkaCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== this.generationId) return syncError(KafkaCode.ILLEGAL_GENERATION);
    if (
      (req.protocolType !== null && req.protocolType !== this.protocolType) ||
      (req.protocolName !== null && req.protocolName !== this.protocolName)
    ) {
      return syncError(KafkaCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    this.touch(member);
    if (this.state === 'PreparingRebalance') return syncError(KafkaCode.REBALANCE_IN_PROGRESS);
    if (this.state === 'Stable') return this.syncOutcome(member);
    const answer = new Promise<SyncOutcome>((resolve) => {
      member.syncWaiter?.(syncError(KafkaCode.REBALANCE_IN_PROGRESS));
      member.syncWaiter = resolve;
    });
    if (member.memberId === this.leaderId) {
      const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      this.state = 'Stable';
      for (const m of this.members.values()) {
        // Copied: the request frame it points into should not live as long as the group.
        m.assignment = Buffer.from(given.get(m.memberId) ?? EMPTY_BUFFER);
        const waiter = m.syncWaiter;
        m.syncWaiter = null;
        waiter?.(this.syncOutcome(m));
      }
    }
    return answer;
  }

  heartbeat(memberId: string, generationId: number): number {
    const member = this.members.get(memberId);
    if (member === undefined) return KafkaCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return KafkaCode.ILLEGAL_GENERATION;
    this.touch(member);
    return this.state === 'PreparingRebalance' ? KafkaCode.REBALANCE_IN_PROGRESS : 0;
  }

  /** Removes a member, named by id, or (static membership) by group instance id when the id is ''. */
  leave(memberId: string, groupInstanceId: string | null = null): number {
    if (memberId === '' && groupInstanceId !== null) {
      memberId =
        [...this.members.values()].find((m) => m.groupInstanceId === groupInstanceId)?.memberId ?? '';
    }
    const pending = this.pending.get(memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.pending.delete(memberId);
      this.maybeCompleteJoin();
      return 0;
    }
    const member = this.members.get(memberId);
    if (member === undefined) return KafkaCode.UNKNOWN_MEMBER_ID;
    this.remove(member);
    return 0;
  }

  /** Whether `memberId` of `generationId` may commit offsets now (0), else the error. */
  commitCheck(memberId: string, generationId: number): number {
    if (generationId < 0 && this.members.size === 0) return 0; // a simple consumer: no membership
    if (this.state === 'CompletingRebalance') return KafkaCode.REBALANCE_IN_PROGRESS;
    const member = this.members.get(memberId);
    if (member === undefined) return KafkaCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return KafkaCode.ILLEGAL_GENERATION;
    this.touch(member);
    return 0;
  }

  /** Stops every timer (broker shutdown). */
  shutdown(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.delayTimer);
    for (const t of this.pending.values()) clearTimeout(t);
    for (const m of this.members.values()) clearTimeout(m.expiry);
  }

  private accepts(req: JoinParams): boolean {
    const others = [...this.members.values()].filter((m) => m.memberId !== req.memberId);
    if (others.length === 0) return true;
    if (req.protocolType !== this.protocolType) return false;
    return req.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  private fenceInstance(instanceId: string): void {
    for (const m of this.members.values()) {
      if (m.groupInstanceId === instanceId) {
        m.joinWaiter?.(joinError(KafkaCode.UNKNOWN_MEMBER_ID, m.memberId));
        m.joinWaiter = null;
        this.remove(m);
      }
    }
  }

  private addMember(memberId: string, req: JoinParams): Promise<JoinOutcome> {
    const member: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost ?? '',
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
      assignment: EMPTY_BUFFER,
      joinWaiter: null,
      syncWaiter: null,
      expiry: undefined,
    };
    this.members.set(memberId, member);
    this.protocolType ??= req.protocolType;
    this.touch(member);
    const answer = this.awaitJoin(member);
    this.prepareRebalance();
    this.maybeCompleteJoin();
    return answer;
  }

  private awaitJoin(member: Member): Promise<JoinOutcome> {
    return new Promise((resolve) => {
      member.joinWaiter?.(joinError(KafkaCode.REBALANCE_IN_PROGRESS, member.memberId));
      member.joinWaiter = resolve;
    });
  }

  private prepareRebalance(): void {
    if (this.state === 'PreparingRebalance') return;
    const wasEmpty = this.state === 'Empty';
    this.state = 'PreparingRebalance';
    for (const m of this.members.values()) {
      // Members waiting for an assignment of the old generation must rejoin.
      const waiter = m.syncWaiter;
      m.syncWaiter = null;
      waiter?.(syncError(KafkaCode.REBALANCE_IN_PROGRESS));
    }
    const timeout = Math.max(0, ...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.completeJoin(), timeout);
    const delay = wasEmpty ? this.settings.initialRebalanceDelayMs : 0;
    this.notBefore = Date.now() + delay;
    if (delay > 0) this.delayTimer = setTimeout(() => this.maybeCompleteJoin(), delay);
  }

  private maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance' || this.pending.size > 0 || Date.now() < this.notBefore) return;
    for (const m of this.members.values()) if (m.joinWaiter === null) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.state !== 'PreparingRebalance') return;
    clearTimeout(this.deadline);
    clearTimeout(this.delayTimer);
    for (const m of [...this.members.values()]) if (m.joinWaiter === null) this.remove(m, false);
    this.generationId++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.protocolType = this.protocolName = this.leaderId = null;
      return;
    }
    this.protocolName = electProtocol([...this.members.values()]);
    if (this.leaderId === null || !this.members.has(this.leaderId)) {
      this.leaderId = this.members.keys().next().value as string;
    }
    this.state = 'CompletingRebalance';
    for (const m of this.members.values()) {
      m.assignment = EMPTY_BUFFER;
      const waiter = m.joinWaiter;
      m.joinWaiter = null;
      this.touch(m);
      waiter?.(this.joinOutcome(m));
    }
  }

  private joinOutcome(member: Member): JoinOutcome {
    return joinOutcome(member, this, [...this.members.values()]);
  }

  private syncOutcome(member: Member): SyncOutcome {
    return {
      errorCode: 0,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      assignment: member.assignment,
    };
  }

  /** (Re)starts the member's session timer. */
  private touch(member: Member): void {
    clearTimeout(member.expiry);
    member.expiry = setTimeout(() => {
      // A member parked in JoinGroup or SyncGroup is waiting on us, not idle.
      if (member.joinWaiter !== null || member.syncWaiter !== null) this.touch(member);
      else if (this.members.get(member.memberId) === member) this.remove(member);
    }, member.sessionTimeoutMs);
  }

  private remove(member: Member, rebalance = true): void {
    clearTimeout(member.expiry);
    this.members.delete(member.memberId);
    if (this.leaderId === member.memberId) this.leaderId = null;
    const join = member.joinWaiter;
    const sync = member.syncWaiter;
    member.joinWaiter = member.syncWaiter = null;
    join?.(joinError(KafkaCode.UNKNOWN_MEMBER_ID, member.memberId));
    sync?.(syncError(KafkaCode.UNKNOWN_MEMBER_ID));
    if (!rebalance) return;
    this.prepareRebalance();
    this.maybeCompleteJoin();
  }
}
