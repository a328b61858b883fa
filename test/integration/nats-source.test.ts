// natsSource against a real NATS JetStream server: durable consumer, acks only after the
// checkpoint, and an exact resume from the checkpoint after a crash left messages unacked.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsSource, natsStreamName } from '../../src/connectors/index.js';
import { MemoryCheckpointStore, json, pipeline, type Envelope, type Sink } from '../../src/stream/index.js';
import { needService, portOpen } from '../helpers/services.js';
import { uniqueName } from './helpers.js';

const SERVERS = 'nats://127.0.0.1:4222';
const skip = await needService('nats-server with JetStream on 127.0.0.1:4222', () => portOpen(4222));
let nc: NatsConnection | undefined;
let jsm: JetStreamManager | undefined;
const streams: string[] = [];
after(async () => {
  for (const s of streams) await jsm?.streams.delete(s).catch(() => {});
  await nc?.close();
});

async function subjectWith(n: number): Promise<string> {
  nc ??= await connect({ servers: SERVERS });
  jsm ??= await jetstreamManager(nc);
  const subject = uniqueName('sluice.ns').replace(/_/g, '.');
  streams.push(natsStreamName(subject));
  await jsm.streams.add({ name: natsStreamName(subject), subjects: [subject] });
  const js = jetstream(nc);
  await Promise.all(Array.from({ length: n }, (_, i) => js.publish(subject, JSON.stringify({ i }))));
  return subject;
}

function ids(): Sink<{ i: number }> & { got: number[] } {
  const got: number[] = [];
  return {
    name: 'ids',
    got,
    write: (r: Envelope<{ i: number }>[]) => void got.push(...r.map((e) => e.value.i)),
  };
}

describe('natsSource', { skip }, () => {
  it('reads a subject through a durable consumer and acks what the checkpoints cover', async () => {
    const subject = await subjectWith(400);
    const sink = ids();
    let seen = 0;
    await pipeline('ns')
      .from(natsSource({ servers: SERVERS, subject, endWhen: () => seen >= 400 }))
      .decode(json({ i: 'integer' }))
      .map((v) => (seen++, v))
      .to(sink)
      .run({ checkpoints: new MemoryCheckpointStore(), checkpointIntervalMs: 20 }).done;
    assert.deepEqual(
      [...sink.got].sort((a, b) => a - b),
      Array.from({ length: 400 }, (_, i) => i),
    );
    const info = await jsm!.consumers.info(natsStreamName(subject), 'sluice-ns');
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, 400);
  });

  it('after a crash with unacked messages, resumes exactly at the checkpoint', async () => {
    const subject = await subjectWith(300);
    const store = new MemoryCheckpointStore();
    let n = 0;
    const run1 = pipeline('ns')
      .from({ ...natsSource({ servers: SERVERS, subject }), commit: undefined }) // dies before acking
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
      .run({ checkpoints: store, checkpointIntervalMs: 1, batchSize: 20, queueCapacity: 1 });
    await assert.rejects(run1.done, /sink down/);
    const covered = (await store.load('ns'))!.offsets[`${subject}/0`]!;
    assert.ok(covered > 1, 'a checkpoint was saved');
    const sink = ids();
    let seen = 0;
    await pipeline('ns')
      .from(natsSource({ servers: SERVERS, subject, endWhen: () => seen >= 301 - covered }))
      .decode(json({ i: 'integer' }))
      .map((v) => (seen++, v))
      .to(sink)
      .run({ checkpoints: store, checkpointIntervalMs: 20 }).done;
    // Stream sequences start at 1: the checkpoint's offset is the next sequence to read.
    assert.deepEqual(
      sink.got,
      Array.from({ length: 301 - covered }, (_, i) => covered - 1 + i),
    );
    assert.equal((await jsm!.consumers.info(natsStreamName(subject), 'sluice-ns')).num_ack_pending, 0);
  });
});
