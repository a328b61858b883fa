// A consumer group of three kafka-python members: the broker's coordinator splits the
// partitions between them, a member leaving hands its partition to the others, and the
// offsets they commit survive a broker restart (a new member resumes, not rewinds).

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { startBroker, type RunningBroker } from '../../src/broker/index.js';
import { encodeRecordBatch } from '../../src/log/index.js';
import { needService } from '../helpers/services.js';
import { defer, eventually, RawClient, tempDir } from './helpers.js';
import { PYTHON, pythonHas } from './processes.js';

const TOPIC = 'grp';
const GROUP = 'grp-readers';
const script = new URL('./clients/group_member.py', import.meta.url).pathname;
const noKafkaPython = await needService('python3 with kafka-python', () => pythonHas('kafka'));

class Member {
  assigned: number[] | null = null;
  readonly consumed: [number, number, string][] = [];
  closed = false;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(address: string) {
    this.child = spawn(PYTHON, [script, address, TOPIC, GROUP]);
    this.child.stderr.resume();
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as {
        assigned?: number[];
        consumed?: [number, number, string][];
        closed?: boolean;
      };
      if (msg.assigned) this.assigned = msg.assigned;
      if (msg.consumed) this.consumed.push(...msg.consumed);
      if (msg.closed) this.closed = true;
    });
  }

  stop(): void {
    this.child.stdin.write('stop\n');
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function produce(broker: RunningBroker, from: number, count: number): Promise<void> {
  const c = await RawClient.connect(broker.port);
  try {
    for (let p = 0; p < 3; p++) {
      const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`p${p}-${from + i}`) }));
      const res = await c.send(0, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: TOPIC, partitionData: [{ index: p, records: encodeRecordBatch(records, 0) }] }],
      });
      assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
    }
  } finally {
    c.close();
  }
}

function committedAll(broker: RunningBroker): boolean {
  for (let p = 0; p < 3; p++) {
    if (broker.log.offsets.committed(GROUP, TOPIC, p) !== broker.log.partition(TOPIC, p).highWatermark)
      return false;
  }
  return true;
}

const union = (members: Member[]) => members.flatMap((m) => m.assigned ?? []).sort();

test(
  'three kafka-python members split 3 partitions, rebalance when one leaves, and resume after a broker restart',
  { skip: noKafkaPython, timeout: 180_000 },
  async (t) => {
    const dataDir = tempDir(t);
    let broker = await startBroker({ port: 0, dataDir, partitions: 3, fsync: 'never', onWarning: () => {} });
    const members: Member[] = [];
    defer(t, async () => {
      for (const m of members) m.kill();
      await broker.close();
    });
    broker.log.createTopic(TOPIC, { partitions: 3 });
    await produce(broker, 0, 1000);

    members.push(new Member(broker.address), new Member(broker.address), new Member(broker.address));
    await eventually(
      'each member owning one partition',
      () => members.every((m) => m.assigned?.length === 1) && union(members).join() === '0,1,2',
      60_000,
    );
    await eventually('every record consumed and committed', () => committedAll(broker), 60_000);

    const leaver = members[2];
    leaver.stop();
    await eventually('the leaver closed', () => leaver.closed, 30_000);
    const stayers = members.slice(0, 2);
    await eventually(
      'the two others taking over all partitions',
      () => union(stayers).join() === '0,1,2',
      60_000,
    );
    await produce(broker, 1000, 100);
    await eventually('the new records consumed and committed by the two', () => committedAll(broker), 60_000);
    const all = [...members.flatMap((m) => m.consumed)];
    for (let p = 0; p < 3; p++) {
      const seen = new Set(all.filter((r) => r[0] === p).map((r) => r[1]));
      assert.equal(seen.size, 1100, `partition ${p}: every offset consumed by some member`);
    }
    for (const m of stayers) m.stop();
    await eventually('all members closed', () => stayers.every((m) => m.closed), 30_000);

    // Restart: the offsets come back from the log's OffsetStore.
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, partitions: 3, fsync: 'never', onWarning: () => {} });
    const c = await RawClient.connect(broker.port);
    const fetched = await c.send(9, 1, {
      groupId: GROUP,
      topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2] }],
    });
    c.close();
    assert.deepEqual(
      fetched.topics[0].partitions.map((p: { committedOffset: number }) => p.committedOffset),
      [1100, 1100, 1100],
    );
    await produce(broker, 1100, 10);
    const late = new Member(broker.address);
    members.push(late);
    await eventually(
      'the new member reading what came after the commits',
      () => late.consumed.length >= 30,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(late.consumed.length, 30, 'nothing before the committed offsets is read again');
    assert.ok(late.consumed.every(([, offset]) => offset >= 1100));
    late.stop();
    await eventually('closed', () => late.closed, 30_000);
  },
);
