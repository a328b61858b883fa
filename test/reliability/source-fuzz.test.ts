// Bad input through the outside-system sources: malformed records (random bytes, truncated JSON,
// wrong types, NaN/Infinity, invalid UTF-8, a record of several MB) interleaved with good ones,
// published to Mosquitto, NATS JetStream, Redis Streams and `sluice broker` (Kafka protocol) and
// read by mqttSource, natsSource, redisSource and kafkaSource. No crash; every bad record in the dead letters with its reason; every good one out.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { connectAsync } from 'mqtt';
import { Producer } from '@platformatic/kafka';
import { json, kafkaSource, pipeline, type Source } from '../../src/index.js';
import { MemoryDeadLetters, collect } from '../../src/testing.js';
import { mqttSource, natsSource, redisSource } from '../../src/connectors/index.js';
import { testBroker } from '../broker/helpers.js';
import { seededRandom } from '../../src/core/random.js';
import { needService, portOpen } from '../helpers/services.js';
import { FUZZ_SCHEMA, OVERSIZED_REASON, goodRecord, malformed } from './malformed.js';

const COUNT = 3000; // per source: every other record malformed, plus one large record
const BIG = 5 << 20;
const skipMqtt = await needService('mosquitto on 127.0.0.1:1883', () => portOpen(1883));
const skipNats = await needService('nats-server with JetStream on 127.0.0.1:4222', () => portOpen(4222));
const skipRedis = await needService('redis on 127.0.0.1:6379', () => portOpen(6379));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});
const unique = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}`;
const digest = (b: Buffer) => createHash('sha1').update(b).digest('hex');

interface Fuzz {
  values: Buffer[];
  /** Expected decoder reason per malformed record, by content. */
  reasons: Map<string, RegExp>;
  goodIds: number[];
}

/** The records of one source's run; the large record (if any) sits in the middle. */
function fuzzRecords(seed: number, large: [Buffer, RegExp] | undefined): Fuzz {
  const r = seededRandom(seed);
  const f: Fuzz = { values: [], reasons: new Map(), goodIds: [] };
  for (let i = 0; i < COUNT; i++) {
    if (large && i === COUNT / 2) {
      f.values.push(large[0]);
      f.reasons.set(digest(large[0]), large[1]);
    }
    if (i % 2 === 0) {
      const [bytes, reason] = malformed(r, i);
      f.values.push(bytes);
      f.reasons.set(digest(bytes), reason);
    } else {
      f.values.push(goodRecord(i));
      f.goodIds.push(i);
    }
  }
  return f;
}

/**
 * Runs `source` (ended by `endWhen` once every record was read) while `publish` sends the
 * records, then checks the good and the dead-lettered ones.
 */
async function fuzzThrough(
  topic: string,
  f: Fuzz,
  source: (endWhen: () => boolean) => Source<Buffer | null>,
  publish: (seen: () => number) => Promise<void>,
): Promise<{ ms: number; bad: number; good: number }> {
  const started = Date.now();
  const out = collect<{ id: number; amount: number }>();
  const dead = new MemoryDeadLetters(COUNT * 2);
  const total = f.values.length;
  let seen = 0;
  const run = pipeline(unique('fuzz'))
    .from(source(() => seen >= total))
    .map((v) => (seen++, v), { name: 'count' }) // counts what was read, bad records included
    .decode(json(FUZZ_SCHEMA))
    .to(out)
    .run({ deadLetters: dead });
  await publish(() => seen);
  const timeout = setTimeout(() => void run.stop(), 60_000);
  const s = await run.done;
  clearTimeout(timeout);
  assert.equal(s.stopped, false, `stopped after 60 s with ${seen} of ${total} records read`);
  assert.equal(s.counters.in, total);
  assert.deepEqual(
    out.values.map((v) => v.id),
    f.goodIds,
    'every good record, in order',
  );
  for (const v of out.values) assert.equal(v.amount, v.id / 10);
  assert.equal(dead.count, total - f.goodIds.length, 'every malformed record dead-lettered');
  for (const d of dead.items) {
    const want = f.reasons.get(digest(d.original as Buffer));
    assert.ok(want, `unexpected dead letter at ${d.topic}@${d.offset}: ${d.reason}`);
    assert.match(d.reason, want);
    assert.equal(d.stage, 'decode');
    assert.equal(d.topic, topic);
  }
  return { ms: Date.now() - started, bad: dead.count, good: out.values.length };
}

describe('bad-input suite: malformed records through the MQTT, NATS, Redis and Kafka sources', () => {
  it('kafkaSource (sluice broker, Kafka protocol)', async (t) => {
    const broker = await testBroker(t);
    const topic = unique('fuzz');
    const producer = new Producer({ clientId: 'fuzz', bootstrapBrokers: [broker.address], acks: -1 });
    cleanups.push(() => producer.close());
    const f = fuzzRecords(104, [Buffer.alloc(BIG, 0x7b), OVERSIZED_REASON]);
    const figures = await fuzzThrough(
      topic,
      f,
      (endWhen) => kafkaSource({ brokers: broker.address, topic, groupId: unique('fuzz'), endWhen }),
      async () => {
        for (let i = 0; i < f.values.length; i += 500)
          await producer.send({
            messages: f.values.slice(i, i + 500).map((value) => ({ topic, value, partition: 0 })),
          });
      },
    );
    console.log(`# kafka: ${JSON.stringify(figures)}`);
  });

  it('mqttSource (Mosquitto, QoS 1)', { skip: skipMqtt }, async () => {
    const url = 'mqtt://127.0.0.1:1883';
    const topic = `sluice/fuzz/${process.pid}`;
    const clientId = unique('sluice-fuzz');
    // The persistent session exists before anything is published: no message can be missed.
    const session = await connectAsync(url, { clientId, clean: false });
    await session.subscribeAsync(topic, { qos: 1 });
    await session.endAsync();
    cleanups.push(async () => (await connectAsync(url, { clientId, clean: true })).endAsync());
    const pub = await connectAsync(url);
    cleanups.push(() => pub.endAsync());
    const f = fuzzRecords(101, [Buffer.alloc(BIG, 0x7b), OVERSIZED_REASON]);
    const figures = await fuzzThrough(
      topic,
      f,
      (endWhen) => mqttSource({ url, topic, clientId, endWhen }),
      async (seen) => {
        for (let i = 0; i < f.values.length; i += 100) {
          // Mosquitto queues at most 1,000 messages per client: stay well behind that.
          while (i - seen() > 500) await new Promise((r) => setTimeout(r, 5));
          await Promise.all(f.values.slice(i, i + 100).map((v) => pub.publishAsync(topic, v, { qos: 1 })));
        }
      },
    );
    console.log(`# mqtt: ${JSON.stringify(figures)}`);
  });

  it(
    'natsSource (JetStream): a record over max_payload is refused at publish; the largest one taken is dead-lettered like any other',
    { skip: skipNats },
    async () => {
      const nc = await natsConnect({ servers: 'nats://127.0.0.1:4222' });
      cleanups.push(() => nc.close());
      const jsm = await jetstreamManager(nc);
      const subject = unique('sluice.fuzz').replace(/_/g, '.');
      const stream = unique('SLUICE_FUZZ');
      await jsm.streams.add({ name: stream, subjects: [subject] });
      cleanups.push(() => jsm.streams.delete(stream));
      const js = jetstream(nc);
      // NATS caps a message at max_payload (1 MiB by default), below the decoder's limit.
      await assert.rejects(js.publish(subject, Buffer.alloc(BIG, 0x7b)), /payload|exceeded/i);
      const largest = Buffer.alloc(nc.info!.max_payload - 4096, 0x7b);
      const f = fuzzRecords(102, [largest, /malformed JSON/]);
      const figures = await fuzzThrough(
        subject,
        f,
        (endWhen) => natsSource({ servers: 'nats://127.0.0.1:4222', subject, stream, endWhen }),
        async () => {
          for (let i = 0; i < f.values.length; i += 200)
            await Promise.all(f.values.slice(i, i + 200).map((v) => js.publish(subject, v)));
        },
      );
      console.log(`# nats: ${JSON.stringify({ ...figures, largest: largest.length })}`);
    },
  );

  it('redisSource (Redis Streams, consumer group)', { skip: skipRedis }, async () => {
    const redis = new Redis('redis://127.0.0.1:6379');
    const stream = unique('sluice-fuzz');
    cleanups.push(async () => {
      const keys = await redis.keys(`${stream}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });
    const f = fuzzRecords(103, [Buffer.alloc(BIG, 0x7b), OVERSIZED_REASON]);
    const figures = await fuzzThrough(
      stream,
      f,
      (endWhen) => redisSource({ url: 'redis://127.0.0.1:6379', stream, endWhen }),
      async () => {
        for (let i = 0; i < f.values.length; i += 500) {
          const p = redis.pipeline();
          for (const v of f.values.slice(i, i + 500)) p.xadd(stream, '*', 'value', v);
          await p.exec();
        }
      },
    );
    console.log(`# redis: ${JSON.stringify(figures)}`);
  });
});
