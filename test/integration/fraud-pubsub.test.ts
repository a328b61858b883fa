// `sluice demo fraud --from pubsub://projects/P/subscriptions/S --alerts-to pubsub://projects/P/topics/T`
// against the test Pub/Sub server (PUBSUB_EMULATOR_HOST): every transaction published to the
// topic is scored, every alert is published once with its idempotency key, and the
// subscription ends with nothing unacked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { ACTION_HEADERS } from '../../src/actions/index.js';
import { generateTransactions } from '../../src/apps/fraud/generator.js';
import { PubSubTestServer } from '../connectors/pubsub-server/server.js';
import { runSluice } from './helpers.js';

const N = 8000; // the demo's model needs some days of history before it alerts
const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-pubsub-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sluice = (args: string[], env: NodeJS.ProcessEnv) => runSluice(args, tmp, env);

test(
  'sluice demo fraud reads transactions from Pub/Sub and publishes its alerts to Pub/Sub',
  { timeout: 120_000 },
  async (t) => {
    const server = await PubSubTestServer.start();
    const env = { ...process.env, PUBSUB_EMULATOR_HOST: server.host, METADATA_SERVER_DETECTION: 'none' };
    process.env.PUBSUB_EMULATOR_HOST = server.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    const client = new PubSub({ projectId: 'fraud-demo' });
    t.after(async () => {
      await client.close();
      await server.stop();
    });
    const [tx] = await client.createTopic('transactions');
    const [txSub] = await tx.createSubscription('fraud');
    const [alerts] = await client.createTopic('alerts');
    const [alertsSub] = await alerts.createSubscription('alerts-audit');
    const publisher = client.topic(tx.name, { batching: { maxMessages: 1000, maxMilliseconds: 5 } });
    await Promise.all(
      generateTransactions(N, { seed: 9, customers: 100, terminals: 200 }).map((t) =>
        publisher.publishMessage({ json: t }),
      ),
    );

    const r = await sluice(
      [
        'demo',
        'fraud',
        '--json',
        '--quiet',
        '--no-dashboard',
        '--events',
        String(N),
        '--data',
        join(tmp, 'data'),
        '--from',
        `pubsub://${txSub.name}`,
        '--alerts-to',
        `pubsub://${alerts.name}`,
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim()) as {
      events_in: number;
      dead_letters: number;
      actions: number;
    };
    assert.equal(summary.events_in, N, 'every transaction scored');
    assert.equal(summary.dead_letters, 0);
    assert.ok(summary.actions > 0, `some alerts: ${r.stdout}`);
    assert.equal(server.subscriptions.get(txSub.name)!.backlog, 0, 'every transaction acked');

    // The alerts topic holds each alert once, keyed by the transaction's message id.
    const keys: string[] = [];
    const sub = client.subscription(alertsSub.name);
    await new Promise<void>((resolve) => {
      sub.on('message', (m) => {
        keys.push(m.attributes[ACTION_HEADERS.key]!);
        m.ack();
        if (keys.length === summary.actions) resolve();
      });
    });
    await sub.close();
    assert.equal(new Set(keys).size, summary.actions);
    for (const k of keys) assert.match(k, /^fraud\/alert\/fraud-0@\d+$/);
  },
);
