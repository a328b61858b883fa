// redisSource against a real Redis: consumer group reads, XACK only after checkpoints, exact
// recovery after a crash (pending entries numbered below the checkpoint are skipped), and
// XAUTOCLAIM of a dead consumer's pending entries.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisSource } from '../../src/connectors/index.js';
import {
  MemoryCheckpointStore,
  json,
  pipeline,
  type Envelope,
  type Sink,
  type Source,
} from '../../src/stream/index.js';
import { needService, portOpen } from '../helpers/services.js';
import { uniqueName } from './helpers.js';

const URL_ = 'redis://127.0.0.1:6379';
const skip = await needService('redis on 127.0.0.1:6379', () => portOpen(6379));
const redis = skip ? undefined : new Redis(URL_);
const created: string[] = [];
after(async () => {
  if (!redis) return;
  for (const s of created) {
    const keys = await redis.keys(`${s}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

async function stream(n: number): Promise<string> {
  const name = uniqueName('sluice-rs');
  created.push(name);
  const p = redis!.pipeline();
  for (let i = 0; i < n; i++) p.xadd(name, '*', 'value', JSON.stringify({ i }), 'key', `k${i % 7}`);
  await p.exec();
  return name;
}

function capture(): Sink<{ i: number }> & { ids: number[]; recordIds: string[] } {
  const ids: number[] = [];
  const recordIds: string[] = [];
  return {
    name: 'capture',
    ids,
    recordIds,
    write(records: Envelope<{ i: number }>[]) {
      for (const r of records) {
        ids.push(r.value.i);
        recordIds.push(r.id!);
      }
    },
  };
}

function read(source: Source<Buffer | null>, store: MemoryCheckpointStore, sink = capture()) {
  const run = pipeline('rs')
    .from(source)
    .decode(json({ i: 'integer' }))
    .to(sink)
    .run({ checkpoints: store, checkpointIntervalMs: 20, batchSize: 50 });
  return { run, sink };
}

describe('redisSource', { skip }, () => {
  it('reads a stream as a group member and acks only what checkpoints cover', async () => {
    const s = await stream(500);
    const store = new MemoryCheckpointStore();
    let seen = 0;
    const sink = capture();
    const src = redisSource({ url: URL_, stream: s, keyField: 'key', endWhen: () => seen >= 500 });
    const run = pipeline('rs')
      .from(src)
      .decode(json({ i: 'integer' }))
      .map((v) => (seen++, v))
      .to(sink)
      .run({ checkpoints: store, checkpointIntervalMs: 20, batchSize: 50 });
    await run.done;
    assert.deepEqual(
      sink.ids,
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.match(sink.recordIds[0]!, new RegExp(`^${s}-0@\\d+-\\d+$`));
    const pending = (await redis!.xpending(s, 'sluice-rs')) as [number, ...unknown[]];
    assert.equal(pending[0], 0, 'everything acked after the final checkpoint');
  });

  it('after a crash between checkpoint and XACK, skips what the checkpoint covers and replays the rest', async () => {
    const s = await stream(300);
    const store = new MemoryCheckpointStore();
    // Run 1 never acks (as if it died right after each checkpoint), and its sink fails part-way:
    // entries below its last checkpoint must be skipped, those after it replayed.
    let n = 0;
    const crashing = { ...redisSource({ url: URL_, stream: s }), commit: undefined };
    const run1 = pipeline('rs')
      .from(crashing)
      .decode(json({ i: 'integer' }))
      .to({
        name: 'failing',
        write: async (records) => {
          n += records.length;
          if (n > 200) throw new Error('sink down');
          await new Promise((r) => setTimeout(r, 5));
        },
      })
      // One batch queued at most: the source cannot race ahead of the first checkpoint barrier.
      .run({ checkpoints: store, checkpointIntervalMs: 1, batchSize: 25, queueCapacity: 1 });
    await assert.rejects(run1.done, /sink down/);
    const saved = (await store.load('rs'))!;
    const covered = saved.offsets[`${s}/0`]!;
    assert.ok(covered > 0, 'a checkpoint was saved');
    const pendingBefore = ((await redis!.xpending(s, 'sluice-rs')) as [number])[0];
    assert.ok(
      pendingBefore > covered && covered > 0,
      `nothing acked: ${pendingBefore} pending, ${covered} covered`,
    );

    let seen = 0;
    const second = capture();
    const run2 = pipeline('rs')
      .from(redisSource({ url: URL_, stream: s, endWhen: () => seen >= 300 - covered }))
      .decode(json({ i: 'integer' }))
      .map((v) => (seen++, v))
      .to(second)
      .run({ checkpoints: store, checkpointIntervalMs: 20 });
    await run2.done;
    assert.deepEqual(
      second.ids,
      Array.from({ length: 300 - covered }, (_, i) => covered + i),
      'resumes exactly after the checkpoint',
    );
    assert.equal(((await redis!.xpending(s, 'sluice-rs')) as [number])[0], 0);
  });

  it("claims a dead consumer's pending entries with XAUTOCLAIM", async () => {
    const s = await stream(200);
    // Consumer "a" reads everything and dies without acking.
    const a = redisSource({ url: URL_, stream: s, consumer: 'a', group: 'g' });
    await a.open({ pipeline: 'rs', startOffsets: undefined });
    let got = 0;
    while (got < 200) got += (await a.poll(100))!.length;
    await a.close();
    await new Promise((r) => setTimeout(r, 150));
    let seen = 0;
    const sink = capture();
    const { run } = read(
      redisSource({
        url: URL_,
        stream: s,
        consumer: 'b',
        group: 'g',
        claimIdleMs: 100,
        endWhen: () => seen >= 200,
      }),
      new MemoryCheckpointStore(),
      {
        ...sink,
        write: (r) => void ((seen += r.length), sink.write(r, { pipeline: 'rs' })),
      },
    );
    await run.done;
    assert.deepEqual(
      [...sink.ids].sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.equal(((await redis!.xpending(s, 'g')) as [number])[0], 0);
  });
});
