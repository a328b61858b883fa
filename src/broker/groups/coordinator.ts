// The group coordinator: consumer groups by id (in memory; members rejoin after a restart),
// request validation that does not depend on a group's state, and committed offsets, which
// live in the log's OffsetStore so they survive restarts.

import type { Log } from '../../log/index.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { Reader } from '../protocol/reader.js';
import { Group, type GroupDescription } from './group.js';
import {
  joinError,
  syncError,
  type JoinOutcome,
  type JoinParams,
  type SyncOutcome,
  type SyncParams,
} from './types.js';

/** Kafka's offset.metadata.max.bytes default. */
export const MAX_METADATA = 4096;

export interface CoordinatorSettings {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
}

/** One offset to commit, with the partition's existence already checked by the caller. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

/**
 * Consumer groups and their committed offsets.
 *
 * @example
 * const coordinator = new GroupCoordinator(log, { minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 1_800_000, initialRebalanceDelayMs: 0 });
 * coordinator.heartbeat('scorers', memberId, generationId); // 0, 22, 25 or 27
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly log: Log,
    private readonly settings: CoordinatorSettings,
  ) {}

  /** The group, if it has any state (for tests and diagnostics). */
  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  async join(req: JoinParams): Promise<JoinOutcome> {
    if (req.groupId === '') return joinError(KafkaCode.INVALID_GROUP_ID, req.memberId);
    const { minSessionTimeoutMs: min, maxSessionTimeoutMs: max } = this.settings;
    if (req.sessionTimeoutMs < min || req.sessionTimeoutMs > max) {
      return joinError(KafkaCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    const params = {
      ...req,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
    };
    const group = this.obtain(req.groupId);
    try {
      return await group.join(params);
    } finally {
      this.forgetIfIdle(group);
    }
  }

  async sync(req: SyncParams): Promise<SyncOutcome> {
    const group = this.groups.get(req.groupId);
    if (req.groupId === '') return syncError(KafkaCode.INVALID_GROUP_ID);
    if (group === undefined) return syncError(KafkaCode.UNKNOWN_MEMBER_ID);
    return group.sync(req);
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    if (groupId === '') return KafkaCode.INVALID_GROUP_ID;
    return this.groups.get(groupId)?.heartbeat(memberId, generationId) ?? KafkaCode.UNKNOWN_MEMBER_ID;
  }

  leave(groupId: string, memberId: string, groupInstanceId: string | null = null): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return KafkaCode.UNKNOWN_MEMBER_ID;
    const code = group.leave(memberId, groupInstanceId);
    this.forgetIfIdle(group);
    return code;
  }

  /**
   * Commits offsets for a member of `generationId` (or -1 for a consumer outside any group).
   * Returns one error code per offset, in order.
   */
  commit(groupId: string, memberId: string, generationId: number, offsets: OffsetToCommit[]): number[] {
    if (groupId === '') return offsets.map(() => KafkaCode.INVALID_GROUP_ID);
    const allowed = this.memberCheck(groupId, memberId, generationId);
    if (allowed !== 0) return offsets.map(() => allowed);
    const codes = offsets.map((o) =>
      o.metadata !== null && Buffer.byteLength(o.metadata) > MAX_METADATA
        ? KafkaCode.OFFSET_METADATA_TOO_LARGE
        : 0,
    );
    // Kafka stores any offset; a negative one (KafkaJS's resetOffsets commits -2, "earliest")
    // reads back as invalid and sends the consumer to its reset policy. Dropping the commit has
    // the same effect: OffsetFetch then answers -1.
    const ok = offsets.filter((o, i) => codes[i] === 0 && o.offset >= 0);
    const reset = offsets.filter((o, i) => codes[i] === 0 && o.offset < 0);
    try {
      if (reset.length > 0) this.log.offsets.deleteMany(groupId, reset);
      if (ok.length === 0) return codes;
      this.log.offsets.commitMany(
        groupId,
        ok.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          ...(o.metadata === null ? {} : { metadata: o.metadata }),
        })),
      );
      return codes;
    } catch {
      return codes.map((c) => (c === 0 ? KafkaCode.KAFKA_STORAGE_ERROR : c));
    }
  }

  /** Whether `memberId` of `generationId` (-1: a consumer outside any group) may commit offsets: 0 or the error code. */
  memberCheck(groupId: string, memberId: string, generationId: number): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return generationId < 0 ? 0 : KafkaCode.UNKNOWN_MEMBER_ID;
    return group.commitCheck(memberId, generationId);
  }

  /** The committed offset and metadata, or offset -1 when nothing is committed. */
  committed(groupId: string, topic: string, partition: number): { offset: number; metadata: string } {
    const entry = this.log.offsets.committedEntry(groupId, topic, partition);
    return entry === undefined
      ? { offset: -1, metadata: '' }
      : { offset: entry.offset, metadata: entry.metadata ?? '' };
  }

  /** Every partition of every topic with an offset committed by `groupId`. */
  committedPartitions(groupId: string): { topic: string; partitions: number[] }[] {
    const out: { topic: string; partitions: number[] }[] = [];
    for (const topic of this.log.topics()) {
      const partitions: number[] = [];
      for (let p = 0; p < this.log.partitionCount(topic); p++) {
        if (this.log.offsets.committed(groupId, topic, p) !== undefined) partitions.push(p);
      }
      if (partitions.length > 0) out.push({ topic, partitions });
    }
    return out;
  }

  /** Every group with members or committed offsets (Kafka keeps the latter as Empty groups). */
  listGroups(): { groupId: string; protocolType: string; state: string }[] {
    const out = new Map<string, { groupId: string; protocolType: string; state: string }>();
    for (const groupId of this.log.offsets.groups())
      out.set(groupId, { groupId, protocolType: '', state: 'Empty' });
    for (const g of this.groups.values()) {
      out.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
    }
    return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /** A group's state and members; 'Dead' (as Kafka says) for a group it knows nothing of. */
  describeGroup(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (group !== undefined) return group.describe();
    const known = this.log.offsets.groups().includes(groupId);
    return { state: known ? 'Empty' : 'Dead', protocolType: '', protocolData: '', members: [] };
  }

  /**
   * OffsetDelete: removes the group's committed offsets of `topic`'s `partitions`. Refused for a
   * topic that a live member of the group subscribes to (Kafka's GROUP_SUBSCRIBED_TO_TOPIC).
   * Returns the group-level error code and one code per partition.
   */
  deleteOffsets(groupId: string, topic: string, partitions: number[]): { code: number; codes: number[] } {
    const group = this.groups.get(groupId);
    if (group === undefined && !this.log.offsets.groups().includes(groupId)) {
      return { code: KafkaCode.GROUP_ID_NOT_FOUND, codes: [] };
    }
    if (group !== undefined && group.state !== 'Empty' && group.protocolType !== 'consumer') {
      return { code: KafkaCode.NON_EMPTY_GROUP, codes: [] };
    }
    const subscribed =
      group !== undefined && group.memberProtocolMetadata().some((m) => subscribedTopics(m).includes(topic));
    if (subscribed) return { code: 0, codes: partitions.map(() => KafkaCode.GROUP_SUBSCRIBED_TO_TOPIC) };
    try {
      this.log.offsets.deleteMany(
        groupId,
        partitions.map((partition) => ({ topic, partition })),
      );
      return { code: 0, codes: partitions.map(() => 0) };
    } catch {
      return { code: 0, codes: partitions.map(() => KafkaCode.KAFKA_STORAGE_ERROR) };
    }
  }

  /** DeleteGroups: removes a group without live members and its committed offsets; 0 or the error code. */
  deleteGroup(groupId: string): number {
    if (groupId === '') return KafkaCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (group !== undefined && !group.idle) return KafkaCode.NON_EMPTY_GROUP;
    if (group === undefined && !this.log.offsets.groups().includes(groupId))
      return KafkaCode.GROUP_ID_NOT_FOUND;
    try {
      const partitions = this.committedPartitions(groupId).flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition })),
      );
      if (partitions.length > 0) this.log.offsets.deleteMany(groupId, partitions);
    } catch {
      return KafkaCode.KAFKA_STORAGE_ERROR;
    }
    if (group !== undefined) {
      group.shutdown();
      this.groups.delete(groupId);
    }
    return 0;
  }

  shutdown(): void {
    for (const g of this.groups.values()) g.shutdown();
    this.groups.clear();
  }

  private obtain(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new Group(groupId, { initialRebalanceDelayMs: this.settings.initialRebalanceDelayMs });
      this.groups.set(groupId, group);
    }
    return group;
  }

  private forgetIfIdle(group: Group): void {
    if (group.idle && this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }
}

/**
 * The topics in a consumer's subscription metadata (ConsumerProtocolSubscription: version
 * int16, topics [string], ...); none when it is not one (another protocol type's bytes).
 */
function subscribedTopics(metadata: Buffer): string[] {
  try {
    const r = new Reader(metadata);
    r.int16();
    const n = r.arrayLength(false, false);
    const topics: string[] = [];
    for (let i = 0; i < n; i++) topics.push(r.string(false) as string);
    return topics;
  } catch {
    return [];
  }
}
