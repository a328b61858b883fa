// The Pub/Sub source and sink against the test Pub/Sub server (test/connectors/pubsub-server),
// reached through PUBSUB_EMULATOR_HOST as the official emulator is: a round trip, acks only
// after the checkpoint, redeliveries of expired leases, ordering keys, batched publishes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import {
  ACTION_HEADERS,
  ActionLedger,
  action,
  actionSinkFromUrl,
  pubsubActionSink,
} from '../../src/actions/index.js';
import { pubsubSource, sourceFromUrl } from '../../src/connectors/index.js';
import {
  MemoryCheckpointStore,
  collect,
  fromArray,
  json,
  pipeline,
  type Envelope,
  type Sink,
} from '../../src/stream/index.js';
import { PubSubTestServer } from './pubsub-server/server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROJECT = 'sluice-test';
let server: PubSubTestServer;
let client: PubSub;
let n = 0;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-pubsub-'));

before(async () => {
  server = await PubSubTestServer.start();
  process.env.PUBSUB_EMULATOR_HOST = server.host;
  // Not on Google Cloud: the auth library's metadata-server probe would only print a warning.
  process.env.METADATA_SERVER_DETECTION = 'none';
  client = new PubSub({ projectId: PROJECT });
});
after(async () => {
  await client.close();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A fresh topic and a subscription on it (the client's admin calls: CreateTopic, CreateSubscription). */
async function topicWithSub(opts: { ordering?: boolean } = {}) {
  const id = `t${++n}-${process.pid}`;
  const [topic] = await client.createTopic(id);
  const [sub] = await topic.createSubscription(`s${n}-${process.pid}`, {
    enableMessageOrdering: opts.ordering ?? false,
  });
  return { topic, sub, path: sub.name, state: () => server.subscriptions.get(sub.name)! };
}

/** Publishes `{i}` for i in [0, count) through the client (batched Publish calls). */
async function publishIds(topicName: string, count: number, keyOf?: (i: number) => string) {
  const t = client.topic(topicName, {
    batching: { maxMessages: 500, maxMilliseconds: 5 },
    messageOrdering: keyOf !== undefined,
  });
  const ids = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      t.publishMessage({
        data: Buffer.from(JSON.stringify({ i })),
        ...(keyOf ? { orderingKey: keyOf(i) } : {}),
      }),
    ),
  );
  return ids;
}

function recorder(): Sink<{ i: number }> & { got: Envelope<{ i: number }>[] } {
  const got: Envelope<{ i: number }>[] = [];
  return { name: 'rec', got, write: (r) => void got.push(...r.map((e) => ({ ...e }))) };
}

describe('pubsubSource', () => {
  it('reads a subscription on streaming pull; every message once, acked after the checkpoints', async () => {
    const { topic, path, state } = await topicWithSub();
    const ids = await publishIds(topic.name, 3000);
    const sink = recorder();
    const summary = await pipeline('ps')
      .from(pubsubSource({ subscription: path, endWhen: () => sink.got.length >= 3000 }))
      .decode(json({ i: 'integer' }))
      .to(sink)
      .run({ checkpoints: new MemoryCheckpointStore(), checkpointIntervalMs: 50 }).done;
    assert.equal(summary.counters.in, 3000);
    assert.deepEqual(
      sink.got.map((e) => e.value.i).sort((a, b) => a - b),
      Array.from({ length: 3000 }, (_, i) => i),
    );
    // Record ids (hence idempotency keys) are the message ids.
    const short = path.split('/').pop();
    assert.deepEqual(new Set(sink.got.map((e) => e.id)), new Set(ids.map((id) => `${short}-0@${id}`)));
    await waitFor(() => state().backlog === 0, 'every message acked');
    assert.ok(sink.got.every((e) => e.topic === short && e.partition === 0));
  });

  it('acks only what a checkpoint covers; a held message is extended, and its redelivery is not read twice', async () => {
    const { topic, path, state } = await topicWithSub();
    await publishIds(topic.name, 50);
    const src = pubsubSource({ subscription: path });
    await src.open({ pipeline: 'ps', startOffsets: undefined } as never);
    const got: Envelope<Buffer>[] = [];
    await waitFor(async () => (got.push(...((await src.poll(100)) ?? [])), got.length === 50), 'all 50 read');
    await sleep(300);
    assert.equal(state().backlog, 50, 'nothing acked before a checkpoint');
    // A lease that expires while held is redelivered by the server; the source keeps one copy.
    const delivered = server.stats.delivered;
    for (const l of leasesOf(state())) l.deadline = 0;
    await waitFor(() => server.stats.delivered >= delivered + 50, 'the expired leases redelivered');
    await sleep(100);
    assert.deepEqual(await src.poll(100), [], 'a redelivery of a held message is not read again');
    // The checkpoint covering the first 20 deliveries acks those (with their newest ack ids).
    await src.commit!({ [`${path.split('/').pop()}/0`]: 20 });
    await waitFor(() => state().backlog === 30, '20 acked');
    const stale = server.stats.staleAcks;
    await src.commit!(src.positions());
    await waitFor(() => state().backlog === 0, 'the rest acked');
    // The earlier deliveries are acked too (the client holds each in its flow-control inventory).
    await waitFor(() => server.stats.staleAcks >= stale + 30, 'the 30 earlier copies released');
    await src.close();
  });

  it('extends the ack deadline of messages held past it (ModifyAckDeadline), so they are not redelivered', async () => {
    const { topic, path, state } = await topicWithSub();
    await publishIds(topic.name, 10);
    const src = pubsubSource({ subscription: path });
    await src.open({ pipeline: 'ps' } as never);
    const got: Envelope<Buffer>[] = [];
    await waitFor(async () => (got.push(...((await src.poll(100)) ?? [])), got.length === 10), 'all 10 read');
    const { expired, modAcks } = server.stats;
    await sleep(12_500); // past the 10 s deadline (Pub/Sub's least) a checkpoint may take
    assert.equal(server.stats.expired, expired, 'no lease ran out');
    assert.ok(
      server.stats.modAcks >= modAcks + 10,
      `deadlines extended: ${server.stats.modAcks - modAcks} ModifyAckDeadline ack ids`,
    );
    await src.commit!(src.positions());
    await waitFor(() => state().backlog === 0, 'acked');
    await src.close();
  });

  it('a commit of more acks than the client batches reaches Pub/Sub whole though the source closes right after', async () => {
    // @google-cloud/pubsub queues an ack that would fill its batch (2,500) only after that batch's
    // Acknowledge answered, and close() drops what is queued once the calls it saw in flight
    // answered: when the big batch answers last (a loaded machine), that ack was lost, and the
    // checkpointed message came back to the next run.
    const { topic, path, state } = await topicWithSub();
    const N = 2600;
    await publishIds(topic.name, N);
    server.ackDelayMs = (n) => (n > 1000 ? 300 : 0); // the big batch answers after the small one
    try {
      const src = pubsubSource({ subscription: path });
      await src.open({ pipeline: 'ps' } as never);
      const got: Envelope<Buffer>[] = [];
      await waitFor(async () => (got.push(...((await src.poll(1000)) ?? [])), got.length === N), 'all read');
      await src.commit!(src.positions());
      await src.close();
      await waitFor(() => state().backlog === 0, `all acked (${state().backlog} left)`, 5_000);
    } finally {
      server.ackDelayMs = undefined;
    }
  });

  it('redelivers what a dead consumer held once its ack deadline passes', async () => {
    const { topic, path, state } = await topicWithSub();
    await publishIds(topic.name, 40);
    const store = new MemoryCheckpointStore();
    // Run 1 never acks (a crash before any checkpoint reached Pub/Sub); its client is dropped.
    const first = pubsubSource({ subscription: path });
    await first.open({ pipeline: 'ps' } as never);
    const seen: Envelope<Buffer>[] = [];
    await waitFor(
      async () => (seen.push(...((await first.poll(100)) ?? [])), seen.length === 40),
      'run 1 read',
    );
    // Run 1 dies: its leases run out 200 ms from now, and nothing it sends reaches the server.
    state().deafen();
    for (const l of leasesOf(state())) l.deadline = Date.now() + 200;
    const expired = server.stats.expired;
    await first.close();
    const sink = recorder();
    await pipeline('ps')
      .from(pubsubSource({ subscription: path, endWhen: () => sink.got.length >= 40 }))
      .decode(json({ i: 'integer' }))
      .to(sink)
      .run({ checkpoints: store, checkpointIntervalMs: 50 }).done;
    assert.ok(server.stats.expired >= expired + 40, 'redelivered because the deadlines passed');
    assert.deepEqual(new Set(sink.got.map((e) => e.id)), new Set(seen.map((e) => e.id)), 'same record ids');
    await waitFor(() => state().backlog === 0, 'all acked');
  });

  it('keeps the order of each ordering key, across flow-control pauses', async () => {
    const { topic, path, state } = await topicWithSub({ ordering: true });
    const KEYS = 7;
    await publishIds(topic.name, 2100, (i) => `k${i % KEYS}`);
    const sink = recorder();
    await pipeline('ps')
      // 64 held at most: a key's next messages wait for the checkpoint that acks its last ones.
      .from(pubsubSource({ subscription: path, maxMessages: 64, endWhen: () => sink.got.length >= 2100 }))
      .decode(json({ i: 'integer' }))
      .to(sink)
      .run({ checkpoints: new MemoryCheckpointStore(), checkpointIntervalMs: 20 }).done;
    assert.equal(sink.got.length, 2100);
    const byKey = new Map<string, number[]>();
    for (const e of sink.got) {
      assert.equal(e.key, `k${e.value.i % KEYS}`, 'the ordering key is the record key');
      byKey.set(String(e.key), [...(byKey.get(String(e.key)) ?? []), e.value.i]);
    }
    for (const [k, is] of byKey)
      assert.deepEqual(
        is,
        [...is].sort((a, b) => a - b),
        `key ${k} in order`,
      );
    await waitFor(() => state().backlog === 0, 'all acked');
  });

  it('pubsub:// URLs: a subscription for --from, a topic for --alerts-to, clear errors otherwise', () => {
    assert.equal(sourceFromUrl('pubsub://projects/p1/subscriptions/txs?maxMessages=500').name, 'pubsub:txs');
    assert.equal(
      actionSinkFromUrl('pubsub://projects/p1/topics/alerts?ordering=record').name,
      'pubsub:projects/p1/topics/alerts',
    );
    assert.throws(() => sourceFromUrl('pubsub://projects/p1/topics/txs'), {
      code: 'SLUICE_SOURCE_URL',
      message: /a source reads a subscription: pubsub:\/\/projects\/p1\/subscriptions\/NAME/,
    });
    assert.throws(() => sourceFromUrl('pubsub://p1/tx'), {
      code: 'SLUICE_SOURCE_URL',
      message: /resource name/,
    });
    assert.throws(() => sourceFromUrl('pubsub://projects/p1/subscriptions/txs?maxMessages=0'), {
      message: /maxMessages= must be a positive integer/,
    });
    assert.throws(() => actionSinkFromUrl('pubsub://projects/p1/subscriptions/sub'), {
      code: 'SLUICE_SINK_URL',
      message: /a sink publishes to a topic/,
    });
    assert.throws(() => actionSinkFromUrl('pubsub://projects/p1/topics/t?ordering=yes'), {
      code: 'SLUICE_SINK_URL',
    });
  });

  it('a missing subscription is a clear error', async () => {
    const src = pubsubSource({ subscription: `projects/${PROJECT}/subscriptions/nope` });
    await assert.rejects(src.open({ pipeline: 'ps' } as never), {
      code: 'SLUICE_SOURCE_UNAVAILABLE',
      message: /does not exist; create it/,
    });
  });
});

describe('pubsubActionSink', () => {
  it('publishes actions in batches, with idempotency keys and ordering keys kept in order', async () => {
    const { topic, path, state } = await topicWithSub({ ordering: true });
    const COUNT = 4000;
    const values = Array.from({ length: COUNT }, (_, i) => ({ i, card: `c${i % 13}` }));
    const ledger = ActionLedger.open(join(tmp, 'sink-ledger.jsonl'));
    const before = server.stats.publishRequests;
    await pipeline('pss')
      .from(fromArray(values))
      .keyBy((v) => v.card)
      .to(
        action({
          name: 'alert',
          ledger,
          payload: (v) => v,
          to: pubsubActionSink({ topic: topic.name, orderingKey: 'record' }),
        }),
      )
      .run({ checkpoints: new MemoryCheckpointStore(), batchSize: 500 }).done;
    ledger.close();
    const requests = server.stats.publishRequests - before;
    // The client batches per ordering key: one Publish per card and delivered batch of 500 at most.
    assert.ok(requests <= (COUNT / 500) * 13, `batched: ${requests} Publish requests for ${COUNT} messages`);
    // Read back through the source: per card, in publishing order.
    const got = collect<{ i: number; card: string }>();
    const keys: string[] = [];
    const seen: Envelope<unknown>[] = [];
    await pipeline('psr')
      .from(pubsubSource({ subscription: path, endWhen: () => seen.length >= COUNT }))
      .map(
        (b: Buffer, env) => (
          seen.push(env),
          keys.push(String(env.key)),
          JSON.parse(b.toString()) as { i: number; card: string }
        ),
      )
      .to(got)
      .run({ checkpoints: new MemoryCheckpointStore(), checkpointIntervalMs: 20 }).done;
    assert.equal(got.values.length, COUNT);
    const byCard = new Map<string, number[]>();
    got.values.forEach((v, j) => {
      assert.equal(keys[j], v.card, 'the ordering key is the record key');
      byCard.set(v.card, [...(byCard.get(v.card) ?? []), v.i]);
    });
    for (const [c, is] of byCard)
      assert.deepEqual(
        is,
        [...is].sort((a, b) => a - b),
        `card ${c} in order`,
      );
    await waitFor(() => state().backlog === 0, 'all acked');
  });

  it('messages carry the idempotency key and action name as attributes', async () => {
    const { topic, sub } = await topicWithSub();
    const ledger = ActionLedger.open(join(tmp, 'attr-ledger.jsonl'));
    await pipeline('psa')
      .from(fromArray([{ x: 1 }, { x: 2 }]))
      .to(
        action({ name: 'note', ledger, payload: (v) => v, to: actionSinkFromUrl(`pubsub://${topic.name}`) }),
      )
      .run({ checkpoints: new MemoryCheckpointStore() }).done;
    ledger.close();
    const [messages] = await pull(sub.name, 2);
    assert.deepEqual(
      messages
        .map((m) => [m.attributes[ACTION_HEADERS.key], m.attributes[ACTION_HEADERS.action], m.data])
        .sort(),
      [
        ['psa/note/array-0@0', 'note', '{"x":1}'],
        ['psa/note/array-0@1', 'note', '{"x":2}'],
      ],
    );
  });

  it('publishes with a publish-only role (the topic cannot be read at open)', async () => {
    const { topic, sub } = await topicWithSub();
    server.unreadable.add(topic.name);
    const ledger = ActionLedger.open(join(tmp, 'role-ledger.jsonl'));
    await pipeline('psr2')
      .from(fromArray([{ x: 1 }]))
      .to(action({ name: 'note', ledger, payload: (v) => v, to: pubsubActionSink({ topic: topic.name }) }))
      .run({ checkpoints: new MemoryCheckpointStore() }).done;
    ledger.close();
    const [messages] = await pull(sub.name, 1);
    assert.equal(messages[0]!.data, '{"x":1}');
  });

  it('a missing topic is a clear error', async () => {
    const sink = pubsubActionSink({ topic: `projects/${PROJECT}/topics/nope` });
    await assert.rejects(sink.open!({ pipeline: 'x' }), {
      code: 'SLUICE_ACTION_UNAVAILABLE',
      message: /does not exist/,
    });
  });
});

/** Pull (the unary call) through the client's generated v1 API. */
async function pull(subscription: string, count: number) {
  const v1 = new (await import('@google-cloud/pubsub')).v1.SubscriberClient({
    servicePath: '127.0.0.1',
    port: Number(server.host.split(':')[1]),
    sslCreds: (await import('@grpc/grpc-js')).credentials.createInsecure(),
  });
  const out: { attributes: Record<string, string>; data: string }[] = [];
  while (out.length < count) {
    const [r] = await v1.pull({ subscription, maxMessages: count });
    for (const m of r.receivedMessages ?? [])
      out.push({
        attributes: { ...m.message!.attributes },
        data: Buffer.from(m.message!.data as Uint8Array).toString(),
      });
    if (r.receivedMessages?.length)
      await v1.acknowledge({ subscription, ackIds: r.receivedMessages.map((m) => m.ackId!) });
  }
  await v1.close();
  return [out] as const;
}

function leasesOf(sub: unknown): { deadline: number }[] {
  return [...(sub as { leases: Map<string, { deadline: number }> }).leases.values()];
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(ok: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await sleep(20);
  }
}
