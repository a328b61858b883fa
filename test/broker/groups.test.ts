// The group coordinator's state machine: member ids, generations, leader election, protocol
// choice, sync waits, rebalances on join, leave and session expiry, commit fencing.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { GroupCoordinator } from '../../src/broker/groups/coordinator.js';
import type { JoinOutcome, JoinParams } from '../../src/broker/groups/types.js';
import { Log } from '../../src/log/index.js';
import { defer, eventually, RawClient, tempDir, testBroker } from './helpers.js';

function coordinator(t: TestContext, rebalanceDelay = 0): GroupCoordinator {
  const log = Log.open(tempDir(t), { fsync: 'never' });
  const c = new GroupCoordinator(log, {
    minSessionTimeoutMs: 10,
    maxSessionTimeoutMs: 60_000,
    initialRebalanceDelayMs: rebalanceDelay,
  });
  defer(t, () => (c.shutdown(), log.close()));
  return c;
}

function joinParams(memberId: string, over: Partial<JoinParams> = {}): JoinParams {
  return {
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from(memberId || 'new') }],
    clientId: 'c',
    requireKnownMemberId: true,
    ...over,
  };
}

/** Joins with an empty id, then with the id handed out (the v4+ flow). */
async function newMember(
  c: GroupCoordinator,
  over: Partial<JoinParams> = {},
): Promise<{ id: string; joined: Promise<JoinOutcome> }> {
  const first = await c.join(joinParams('', over));
  assert.equal(first.errorCode, 79, 'MEMBER_ID_REQUIRED');
  assert.match(first.memberId, /^c-/);
  return { id: first.memberId, joined: c.join(joinParams(first.memberId, over)) };
}

test('two members: ids handed out, one generation, the leader gets all metadata, sync hands out assignments', async (t) => {
  const c = coordinator(t);
  const a = await newMember(c);
  const ja = await a.joined;
  assert.deepEqual([ja.errorCode, ja.generationId, ja.leader, ja.protocolName], [0, 1, a.id, 'range']);
  assert.equal(ja.members.length, 1);
  const sa = await c.sync({
    groupId: 'g',
    generationId: 1,
    memberId: a.id,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: a.id, assignment: Buffer.from('all') }],
  });
  assert.equal(sa.assignment.toString(), 'all');
  // A second member joins: the first learns it from its heartbeat and rejoins.
  const b = await newMember(c);
  assert.equal(c.heartbeat('g', a.id, 1), 27);
  const [ja2, jb] = await Promise.all([c.join(joinParams(a.id)), b.joined]);
  assert.equal(ja2.generationId, 2);
  assert.equal(jb.generationId, 2);
  assert.equal(ja2.leader, a.id, 'the leader stays the leader');
  assert.deepEqual(ja2.members.map((m) => m.memberId).sort(), [a.id, b.id].sort());
  assert.deepEqual(jb.members, [], 'followers get no member list');
  const followerSync = c.sync({
    groupId: 'g',
    generationId: 2,
    memberId: b.id,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [],
  });
  const leaderSync = c.sync({
    groupId: 'g',
    generationId: 2,
    memberId: a.id,
    protocolType: null,
    protocolName: null,
    assignments: [
      { memberId: a.id, assignment: Buffer.from('p0') },
      { memberId: b.id, assignment: Buffer.from('p1') },
    ],
  });
  assert.equal((await followerSync).assignment.toString(), 'p1');
  assert.equal((await leaderSync).assignment.toString(), 'p0');
  assert.equal(c.heartbeat('g', b.id, 2), 0);
  assert.equal(c.heartbeat('g', b.id, 1), 22, 'ILLEGAL_GENERATION');
  assert.equal(c.heartbeat('g', 'who', 2), 25, 'UNKNOWN_MEMBER_ID');
  assert.equal(c.commit('g', b.id, 1, []).length, 0);
  assert.deepEqual(c.commit('g', b.id, 1, [{ topic: 't', partition: 0, offset: 1, metadata: null }]), [22]);
  assert.deepEqual(
    c.commit('g', '', -1, [{ topic: 't', partition: 0, offset: 1, metadata: null }]),
    [25],
    'gen -1 only on an empty group',
  );
});

test('validation: group id, session timeout bounds, protocol type and common protocols', async (t) => {
  const c = coordinator(t);
  assert.equal((await c.join(joinParams('', { groupId: '' }))).errorCode, 24);
  assert.equal((await c.join(joinParams('', { sessionTimeoutMs: 5 }))).errorCode, 26);
  assert.equal((await c.join(joinParams('', { protocols: [] }))).errorCode, 23);
  const a = await c.join(joinParams('', { requireKnownMemberId: false }));
  assert.equal(a.errorCode, 0, 'before v4 a member id is assigned at once');
  assert.equal(
    (await c.join(joinParams('', { protocolType: 'connect', requireKnownMemberId: false }))).errorCode,
    23,
  );
  const other = {
    protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }],
    requireKnownMemberId: false,
  };
  assert.equal((await c.join(joinParams('', other))).errorCode, 23);
  assert.equal((await c.join(joinParams('unknown-id'))).errorCode, 25);
});

test('the elected protocol is the one most members prefer among those all support', async (t) => {
  const c = coordinator(t, 100);
  const p = (...names: string[]) => ({
    protocols: names.map((name) => ({ name, metadata: Buffer.from(name) })),
    requireKnownMemberId: false,
  });
  const joins = await Promise.all([
    c.join(joinParams('', p('cooperative-sticky', 'range'))),
    c.join(joinParams('', p('range', 'cooperative-sticky'))),
    c.join(joinParams('', p('range', 'roundrobin', 'cooperative-sticky'))),
  ]);
  assert.deepEqual(
    joins.map((j) => [j.errorCode, j.generationId, j.protocolName]),
    [
      [0, 1, 'range'],
      [0, 1, 'range'],
      [0, 1, 'range'],
    ],
  );
  const leader = joins.find((j) => j.members.length === 3)!;
  assert.deepEqual(
    leader.members.map((m) => m.metadata.toString()),
    ['range', 'range', 'range'],
  );
});

test('a member that leaves or stops heartbeating triggers a rebalance without it', async (t) => {
  const c = coordinator(t, 50);
  const fast = { sessionTimeoutMs: 300, rebalanceTimeoutMs: 2000, requireKnownMemberId: false };
  const [a, b, d] = await Promise.all([
    c.join(joinParams('', fast)),
    c.join(joinParams('', fast)),
    c.join(joinParams('', fast)),
  ]);
  assert.equal(a.generationId, 1);
  const ids = [a.memberId, b.memberId, d.memberId];
  assert.equal(c.leave('g', d.memberId), 0);
  assert.equal(c.heartbeat('g', a.memberId, 1), 27);
  const [a2, b2] = await Promise.all([
    c.join(joinParams(a.memberId, fast)),
    c.join(joinParams(b.memberId, fast)),
  ]);
  assert.deepEqual([a2.generationId, b2.generationId], [2, 2]);
  assert.equal(c.group('g')!.memberIds().length, 2);
  assert.ok(!c.group('g')!.memberIds().includes(ids[2]));
  // b goes silent; a keeps heartbeating and is told to rejoin once b's session expires.
  await c.sync({
    groupId: 'g',
    generationId: 2,
    memberId: a2.leader,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  let code = 0;
  await eventually(
    'a rebalance after b expires',
    () => {
      code = c.heartbeat('g', a.memberId, 2);
      return code !== 0;
    },
    10_000,
    50,
  );
  assert.equal(code, 27);
  const a3 = await c.join(joinParams(a.memberId, fast));
  assert.deepEqual([a3.generationId, a3.members.map((m) => m.memberId)], [3, [a.memberId]]);
  assert.equal(c.leave('g', 'nobody'), 25);
});

test('a member that does not rejoin within the rebalance timeout is dropped', async (t) => {
  const c = coordinator(t);
  const slow = { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 300, requireKnownMemberId: false };
  const a = await c.join(joinParams('', slow));
  const bJoin = c.join(joinParams('', slow)); // a must rejoin for this to complete; it never does
  const b = await bJoin;
  assert.deepEqual([b.errorCode, b.generationId, b.leader], [0, 2, b.memberId]);
  assert.deepEqual(c.group('g')!.memberIds(), [b.memberId]);
  assert.equal(c.heartbeat('g', a.memberId, 1), 25);
});

test('over the wire: JoinGroup v5 MEMBER_ID_REQUIRED, SyncGroup, Heartbeat and LeaveGroup v3 members', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const join = (memberId: string) =>
    c.send(11, 5, {
      groupId: 'wire',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    });
  const first = await join('');
  assert.equal(first.errorCode, 79);
  const joined = await join(first.memberId);
  assert.deepEqual([joined.errorCode, joined.generationId, joined.leader], [0, 1, first.memberId]);
  const sync = await c.send(14, 3, {
    groupId: 'wire',
    generationId: 1,
    memberId: first.memberId,
    groupInstanceId: null,
    assignments: [{ memberId: first.memberId, assignment: Buffer.from('x') }],
  });
  assert.equal(sync.assignment.toString(), 'x');
  assert.equal(
    (
      await c.send(12, 3, {
        groupId: 'wire',
        generationId: 1,
        memberId: first.memberId,
        groupInstanceId: null,
      })
    ).errorCode,
    0,
  );
  const leave = await c.send(13, 3, {
    groupId: 'wire',
    members: [
      { memberId: first.memberId, groupInstanceId: null },
      { memberId: 'ghost', groupInstanceId: null },
    ],
  });
  assert.deepEqual(
    [leave.errorCode, ...leave.members.map((m: { errorCode: number }) => m.errorCode)],
    [0, 0, 25],
  );
});
