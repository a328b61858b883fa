// kafkaSource through the broker reads exactly what logSource reads from the same log, commits
// the offsets of each checkpoint, and resumes from committed offsets (new run, same group) or
// from a checkpoint (which wins over commits).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaSource, logSource } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import {
  MemoryCheckpointStore,
  pipeline,
  type Envelope,
  type Sink,
  type Source,
} from '../../src/stream/index.js';
import { defer, tempDir, testBroker } from './helpers.js';

const TOPIC = 'tx';

type Row = [partition: number, offset: number, value: string];

function capture(): Sink<Buffer | null> & { rows: Row[] } {
  const rows: Row[] = [];
  return {
    name: 'capture',
    rows,
    write(records: Envelope<Buffer | null>[]) {
      for (const r of records) rows.push([r.partition, r.offset, r.value?.toString() ?? '<null>']);
    },
  };
}

async function runAll(source: Source<Buffer | null>, checkpoints?: MemoryCheckpointStore): Promise<Row[]> {
  const sink = capture();
  const run = pipeline('read')
    .from(source)
    .to(sink)
    .run({ checkpointIntervalMs: 100, ...(checkpoints ? { checkpoints } : {}) });
  await run.done;
  return sink.rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function fill(log: Log, from: number, perPartition: number): void {
  for (let p = 0; p < 3; p++) {
    let n = 0;
    while (n < perPartition) {
      const size = Math.min(1 + ((from + n) % 13), perPartition - n);
      log
        .partition(TOPIC, p)
        .append(Array.from({ length: size }, (_, i) => ({ value: Buffer.from(`p${p}-${from + n + i}`) })));
      n += size;
    }
  }
}

test(
  'kafkaSource yields the same records as logSource, commits its checkpoints, and resumes',
  { timeout: 120_000 },
  async (t) => {
    const log = Log.open(tempDir(t), { fsync: 'never' });
    defer(t, () => log.close()); // deferred first, so it runs after the broker closes
    log.createTopic(TOPIC, { partitions: 3 });
    fill(log, 0, 2000);
    const broker = await testBroker(t, { log });

    const direct = await runAll(logSource({ log, topic: TOPIC, endWhen: 'caught-up' }));
    assert.equal(direct.length, 6000);
    const checkpoints = new MemoryCheckpointStore();
    const viaKafka = await runAll(
      kafkaSource({ brokers: broker.address, topic: TOPIC, groupId: 'readers', endWhen: 'caught-up' }),
      checkpoints,
    );
    assert.deepEqual(viaKafka, direct, 'same records, same partitions, same offsets, same order');
    for (let p = 0; p < 3; p++)
      assert.equal(log.offsets.committed('readers', TOPIC, p), 2000, `partition ${p} committed at the end`);

    fill(log, 2000, 10);
    const resumed = await runAll(
      kafkaSource({ brokers: broker.address, topic: TOPIC, groupId: 'readers', endWhen: 'caught-up' }),
    );
    assert.deepEqual(
      resumed.map((r) => r[2]),
      [0, 1, 2].flatMap((p) => Array.from({ length: 10 }, (_, i) => `p${p}-${2000 + i}`)),
      'a new run of the group starts at its committed offsets',
    );

    const fromCheckpoint = await runAll(
      kafkaSource({ brokers: broker.address, topic: TOPIC, groupId: 'fresh-group', endWhen: 'caught-up' }),
      checkpoints,
    );
    assert.equal(fromCheckpoint.length, 30, 'a checkpoint wins over the (absent) committed offsets');
    assert.ok(fromCheckpoint.every(([, offset]) => offset >= 2000));
  },
);

test('kafkaSource reports positions and lag', { timeout: 60_000 }, async (t) => {
  const log = Log.open(tempDir(t), { fsync: 'never' });
  defer(t, () => log.close());
  log.createTopic(TOPIC, { partitions: 3 });
  fill(log, 0, 100);
  const broker = await testBroker(t, { log });
  const source = kafkaSource({
    brokers: [broker.address],
    topic: TOPIC,
    groupId: 'lag',
    endWhen: 'caught-up',
    lagRefreshMs: 50,
  });
  await source.open({ pipeline: 'p', startOffsets: undefined });
  let read = 0;
  let sawLag = 0;
  for (;;) {
    sawLag = Math.max(sawLag, source.lag());
    const batch = await source.poll(64);
    if (batch === null) break;
    read += batch.length;
  }
  assert.equal(read, 300);
  assert.ok(sawLag > 0, 'lag was positive before reading');
  assert.deepEqual(source.positions(), { 'tx/0': 100, 'tx/1': 100, 'tx/2': 100 });
  assert.equal(source.lag(), 0);
  assert.deepEqual(source.lagByPartition(), { 'tx/0': 0, 'tx/1': 0, 'tx/2': 0 });
  await source.close();
});
