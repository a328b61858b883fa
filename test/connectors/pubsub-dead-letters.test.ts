// Two kinds of dead letters for a Pub/Sub source, side by side (docs/connectors.md): a record the
// pipeline rejects (bad JSON) is Sluice's dead letter, checkpointed and acked like any record, so
// Pub/Sub never redelivers it; a message on which the pipeline fails every time (its sink
// refuses it, a crash) is never acked, and the subscription's dead-letter policy moves it to its
// dead-letter topic after maxDeliveryAttempts deliveries, so the next run gets past it. (Messages
// delivered with it and never checkpointed in those runs go there too: here it comes alone.)
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { pubsubSource } from '../../src/connectors/index.js';
import { MemoryCheckpointStore, MemoryDeadLetters, json, pipeline } from '../../src/stream/index.js';
import { PubSubTestServer } from './pubsub-server/server.js';

let server: PubSubTestServer;
let client: PubSub;
before(async () => {
  server = await PubSubTestServer.start();
  process.env.PUBSUB_EMULATOR_HOST = server.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  client = new PubSub({ projectId: 'sluice-dlq' });
});
after(async () => {
  await client.close();
  await server.stop();
});

it(
  "Sluice's dead letters are acked; a message that fails every run goes to the subscription's dead-letter topic",
  { timeout: 60_000 },
  async () => {
    const [topic] = await client.createTopic('orders');
    const [dlt] = await client.createTopic('orders-dead');
    const [dltSub] = await dlt.createSubscription('orders-dead-audit');
    const [sub] = await topic.createSubscription('orders-sluice', {
      deadLetterPolicy: { deadLetterTopic: dlt.name, maxDeliveryAttempts: 5 },
    });
    const dead = () => server.subscriptions.get(dltSub.name)!.backlog;
    const store = new MemoryCheckpointStore();
    const letters = new MemoryDeadLetters();
    const done: number[] = [];
    let seen = 0;
    /** One run to its end, or to the failure of the pipeline. */
    const runOnce = (until: () => boolean) =>
      pipeline('orders')
        .from(pubsubSource({ subscription: sub.name, endWhen: until }))
        .decode(json({ i: 'integer' }))
        .to({
          name: 'orders-db',
          write(records) {
            for (const r of records) {
              // The poison message: the target refuses it every time (a pipeline failure, not a dead letter).
              if (r.value.i < 0) throw new Error('orders-db refuses order -1');
              done.push(r.value.i);
            }
            seen += records.length;
          },
        })
        .run({ checkpoints: store, deadLetters: letters, checkpointIntervalMs: 20 }).done;

    for (const data of ['{"i":1}', 'not json', '{"i":2}'])
      await topic.publishMessage({ data: Buffer.from(data) });
    await runOnce(() => seen >= 2);
    assert.deepEqual(done, [1, 2]);
    assert.equal(letters.count, 1);
    assert.match(letters.items[0]!.reason, /malformed JSON/);

    await topic.publishMessage({ data: Buffer.from('{"i":-1}') });
    let failed = 0;
    for (let runs = 0; runs < 10; runs++) {
      try {
        await runOnce(() => dead() > 0);
        break;
      } catch (err) {
        assert.match((err as Error).message, /refuses order -1/);
        failed++;
      }
    }
    assert.equal(failed, 5, 'the poison message failed 5 runs, then the policy moved it');
    assert.deepEqual(done, [1, 2]);
    assert.equal(letters.count, 1, 'the bad JSON was not redelivered: acked with its checkpoint');
    assert.equal(server.subscriptions.get(sub.name)!.backlog, 0, 'nothing left on the subscription');

    // The dead-letter topic got the poison message once, with Pub/Sub's delivery-count attribute.
    const forwarded = await new Promise<Message>((resolve) => {
      const s = client.subscription(dltSub.name);
      s.on('message', (m: Message) => (m.ack(), void s.close(), resolve(m)));
    });
    assert.equal(forwarded.data.toString(), '{"i":-1}');
    assert.equal(forwarded.attributes.CloudPubSubDeadLetterSourceDeliveryCount, '5');
  },
);
