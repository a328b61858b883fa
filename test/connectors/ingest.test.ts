// `startIngest` (behind `sluice ingest`) for the push sources other than MQTT (that one is in
// test/reliability/mqtt-ingest.test.ts): Redis Streams, NATS JetStream and HTTP into a log
// topic, each message acknowledged upstream once appended and fsynced.
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Log } from '../../src/log/index.js';
import { startIngest, type Ingest } from '../../src/connectors/index.js';
import { needService, portOpen } from '../helpers/services.js';

const N = 1000;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-ingest-'));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});
const skipRedis = await needService('redis on 127.0.0.1:6379', () => portOpen(6379));
const skipNats = await needService('nats-server with JetStream on 127.0.0.1:4222', () => portOpen(4222));

async function until(ingest: Ingest, n: number) {
  const deadline = Date.now() + 20_000;
  while (ingest.stats.appended < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function values(log: Log, topic: string): string[] {
  const part = log.partition(topic, 0);
  const out: string[] = [];
  for (let o = 0; o < part.highWatermark;) {
    const { records, nextOffset } = part.read(o);
    for (const r of records) out.push(r.value!.toString());
    o = nextOffset;
  }
  return out;
}

const want = Array.from({ length: N }, (_, i) => JSON.stringify({ seq: i }));

describe('startIngest: push sources into a log topic', () => {
  it(
    'redis://: every entry appended in order, then acknowledged (nothing left pending)',
    { skip: skipRedis },
    async () => {
      const stream = `sluice-ingest-test-${process.pid}`;
      const redis = new Redis('redis://127.0.0.1:6379');
      cleanups.push(async () => (await redis.del(stream), redis.quit()));
      const log = Log.open(join(tmp, 'redis'));
      const ingest = await startIngest(`redis://127.0.0.1:6379/${stream}`, log, 'readings');
      const pipe = redis.pipeline();
      for (const v of want) pipe.xadd(stream, '*', 'value', v);
      await pipe.exec();
      await until(ingest, N);
      await ingest.close();
      assert.deepEqual(values(log, 'readings'), want);
      const pending = (await redis.xpending(stream, 'sluice-ingest-readings')) as [number, ...unknown[]];
      assert.equal(pending[0], 0, 'every entry acknowledged after its append');
      log.close();
    },
  );

  it(
    'nats://: every message appended in order, then acked (nothing left unacknowledged)',
    { skip: skipNats },
    async () => {
      const subject = `sluice.ingest.test.${process.pid}`;
      const stream = `SLUICE_INGEST_TEST_${process.pid}`;
      const nc = await natsConnect({ servers: 'nats://127.0.0.1:4222' });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [subject] });
      cleanups.push(async () => (await jsm.streams.delete(stream), nc.close()));
      const log = Log.open(join(tmp, 'nats'));
      const ingest = await startIngest(`nats://127.0.0.1:4222/${subject}?stream=${stream}`, log, 'readings');
      const js = jetstream(nc);
      // 200 only: JetStream's own acknowledged publishes take ~7 ms each on this machine.
      const some = want.slice(0, 200);
      await Promise.all(some.map((v) => js.publish(subject, v)));
      await until(ingest, some.length);
      await ingest.close();
      assert.deepEqual(values(log, 'readings'), some);
      const info = await jsm.consumers.info(stream, 'sluice-ingest-readings');
      assert.equal(info.num_ack_pending + info.num_pending, 0, 'every message acked after its append');
      log.close();
    },
  );

  it('http://: POST /ingest/<topic> appended, 200 after the fsync; other topics refused', async () => {
    const log = Log.open(join(tmp, 'http'), { fsync: 'batch' });
    const ingest = await startIngest('http://127.0.0.1:0', log, 'readings');
    assert.match(ingest.address!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const post = (topic: string) =>
      fetch(`${ingest.address}ingest/${topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: want.join('\n'),
      });
    assert.equal((await post('readings')).status, 200);
    assert.equal((await post('other')).status, 404);
    assert.equal(ingest.stats.appended, N);
    await ingest.close();
    assert.deepEqual(values(log, 'readings'), want);
    log.close();
  });
});
