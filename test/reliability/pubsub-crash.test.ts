// Exactly-once effects from a Pub/Sub subscription under kill -9: a pipeline process reading
// the test Pub/Sub server is killed with SIGKILL mid-stream several times and restarted. Pub/Sub
// redelivers what the dead processes held (once their ack deadlines pass) and what was
// checkpointed but not yet acked; the idempotency keys come from the message ids, so every
// message takes effect once: as many effects as messages, each key once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { PubSubTestServer } from '../connectors/pubsub-server/server.js';
import { killAndFinish, tempDir } from '../integration/helpers.js';

const job = new URL('../integration/fixtures/pubsub-job.ts', import.meta.url).pathname;
const N = 3000;
const KILLS = 3;
let server: PubSubTestServer;
let client: PubSub;

before(async () => {
  server = await PubSubTestServer.start();
  process.env.PUBSUB_EMULATOR_HOST = server.host;
  // Not on Google Cloud: the auth library's metadata-server probe would only print a warning.
  process.env.METADATA_SERVER_DETECTION = 'none'; // the job processes inherit it
  client = new PubSub({ projectId: 'sluice-crash' });
});
after(async () => {
  await client.close();
  await server.stop();
});

describe('Pub/Sub source under kill -9', () => {
  it(
    `${KILLS} kills mid-stream: every message takes effect exactly once`,
    { timeout: 150_000 },
    async (t) => {
      const dir = tempDir(t, 'sluice-pubsub-crash-');
      const [topic] = await client.createTopic('crash-tx');
      const [sub] = await topic.createSubscription('crash-sub');
      const publisher = client.topic(topic.name, { batching: { maxMessages: 500, maxMilliseconds: 5 } });
      const ids = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          publisher.publishMessage({ data: Buffer.from(JSON.stringify({ i })) }),
        ),
      );
      const summary = await killAndFinish(job, [dir, sub.name, String(N)], KILLS, 11);
      assert.equal(summary.resumed, true);

      // The effects: one ledger line per effect; each key once, one per message id.
      const lines = readFileSync(join(dir, 'effects.jsonl'), 'utf8').trim().split('\n');
      const keys = lines.map((l) => (JSON.parse(l) as { key: string }).key);
      const distinct = new Set(keys);
      assert.equal(keys.length, N, `total effects ${keys.length}, distinct ${distinct.size}`);
      assert.equal(distinct.size, N);
      assert.deepEqual(distinct, new Set(ids.map((id) => `psk/effect/crash-sub-0@${id}`)));

      // Pub/Sub's side: redeliveries happened, and in the end every message was acked once.
      const state = server.subscriptions.get(sub.name)!;
      assert.equal(state.backlog, 0, 'nothing left unacked');
      assert.equal(server.stats.acked, N);
      assert.ok(
        server.stats.delivered > N,
        `redelivered: ${server.stats.delivered} deliveries of ${N} messages`,
      );
      console.log(
        `# pubsub kill -9: ${N} messages, ${server.stats.delivered} deliveries (${server.stats.expired} after a deadline), ` +
          `${keys.length} effects, ${distinct.size} distinct; last run skipped ${String(summary.duplicates)} duplicates`,
      );
    },
  );
});
