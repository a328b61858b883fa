// The broker as a child process (bin/sluice.js broker --fsync batch), killed with SIGKILL
// while producers are writing: after a restart every acknowledged record is there at its
// acknowledged offset, a torn batch left at the tail is cut by recovery, and the broker takes
// new writes and shuts down cleanly on SIGTERM.

import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeRecordBatch, encodeRecordBatch } from '../../src/log/index.js';
import { spawnBroker } from './broker-process.js';
import { defer, eventually, type Msg, RawClient, tempDir } from './helpers.js';

const TOPIC = 'crash';

function produce(c: RawClient, partition: number, values: string[]): Promise<Msg> {
  const batch = encodeRecordBatch(
    values.map((v) => ({ value: Buffer.from(v) })),
    0,
  );
  return c.send(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: batch }] }],
  });
}

/** Every record of a partition as offset -> value, read over the wire. */
async function readPartition(c: RawClient, partition: number): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let offset = 0;
  for (;;) {
    const res = await c.send(1, 12, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 24,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        { topic: TOPIC, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 22 }] },
      ],
    });
    const p = res.responses[0].partitions[0];
    assert.equal(p.errorCode, 0);
    const data: Buffer = p.records;
    if (data.length === 0) return out;
    let pos = 0;
    while (pos < data.length) {
      const size = data.readInt32BE(pos + 8) + 12;
      for (const r of decodeRecordBatch(data.subarray(pos, pos + size)).records) {
        out.set(r.offset, r.value!.toString());
        offset = r.offset + 1;
      }
      pos += size;
    }
  }
}

test(
  'SIGKILL during produce with fsync=batch: every acknowledged record survives, a torn tail is recovered',
  { timeout: 180_000 },
  async (t) => {
    const dataDir = tempDir(t);
    const first = await spawnBroker(dataDir);
    defer(t, () => first.child.kill('SIGKILL'));
    const acked = new Map<number, { base: number; values: string[] }[]>([
      [0, []],
      [1, []],
      [2, []],
    ]);
    let ackedRecords = 0;
    const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(first.port)));
    // Three producers, one per partition, each keeping several requests in flight.
    const producers = clients.map(async (c, partition) => {
      let n = 0;
      const inFlight = new Set<Promise<void>>();
      try {
        for (;;) {
          const values = Array.from({ length: 20 }, (_, i) => `p${partition}-${n + i}`);
          n += values.length;
          const req: Promise<void> = produce(c, partition, values).then((res) => {
            const r = res.responses[0].partitionResponses[0];
            assert.equal(r.errorCode, 0);
            acked.get(partition)!.push({ base: r.baseOffset, values });
            ackedRecords += values.length;
          });
          inFlight.add(req);
          void req.finally(() => inFlight.delete(req)).catch(() => {});
          if (inFlight.size >= 8) await Promise.race(inFlight);
        }
      } catch {
        // the broker died under us: that is the point
      }
    });
    const started = Date.now();
    while (ackedRecords < 3000 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(producers);
    assert.ok(
      ackedRecords >= 3000 || Date.now() - started >= 30_000,
      'producers made progress before the kill',
    );

    // A write cut short by the crash: half a batch at the end of partition 0's segment.
    const torn = encodeRecordBatch([{ value: Buffer.alloc(200, 1) }], 999_999);
    appendFileSync(join(dataDir, `${TOPIC}-0`, '00000000000000000000.log'), torn.subarray(0, 100));

    const second = await spawnBroker(dataDir);
    defer(t, () => second.child.kill('SIGKILL'));
    const c = await RawClient.connect(second.port);
    for (const [partition, batches] of acked) {
      const stored = await readPartition(c, partition);
      for (const { base, values } of batches) {
        values.forEach((v, i) =>
          assert.equal(stored.get(base + i), v, `partition ${partition} offset ${base + i}`),
        );
      }
    }
    // Partitions are recovered when first opened, so the warning comes with the first read.
    await eventually(
      'recovery reporting the torn tail',
      () => second.stderr.some((l) => /torn|corrupt|truncat|cut/i.test(l)),
      10_000,
    );
    const hw = (await readPartition(c, 0)).size;
    const after = await produce(c, 0, ['after-restart']);
    assert.equal(
      after.responses[0].partitionResponses[0].baseOffset,
      hw,
      'appends continue right after the recovered tail',
    );
    c.close();
    for (const x of clients) x.close();
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, 'SIGTERM shuts down cleanly');
  },
);
