// mqttSource against a real Mosquitto: QoS 1 in a persistent session, spooled into the embedded
// log (exactly once across restarts, messages published while the pipeline is down included),
// and the plain in-memory mode.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { mqttSource } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import { MemoryCheckpointStore, json, pipeline, collect } from '../../src/stream/index.js';
import { needService, portOpen } from '../helpers/services.js';
import { tempDir, uniqueName } from './helpers.js';

const URL_ = 'mqtt://127.0.0.1:1883';
const skip = await needService('mosquitto on 127.0.0.1:1883', () => portOpen(1883));
const sessions: string[] = [];
let pub: MqttClient | undefined;
after(async () => {
  await pub?.endAsync();
  // Drop the persistent sessions the tests created.
  for (const clientId of sessions) await (await connectAsync(URL_, { clientId, clean: true })).endAsync();
});

async function publish(topic: string, from: number, to: number): Promise<void> {
  pub ??= await connectAsync(URL_);
  await Promise.all(
    Array.from({ length: to - from }, (_, k) =>
      pub!.publishAsync(topic, JSON.stringify({ i: from + k }), { qos: 1 }),
    ),
  );
}

/** Creates the persistent session and its subscription up front: then no publish can be missed. */
async function session(topic: string): Promise<string> {
  const clientId = uniqueName('sluice-mq');
  sessions.push(clientId);
  const c = await connectAsync(URL_, { clientId, clean: false });
  await c.subscribeAsync(topic, { qos: 1 });
  await c.endAsync();
  return clientId;
}

async function readUntil(source: ReturnType<typeof mqttSource>, store: MemoryCheckpointStore, want: number) {
  const out = collect<{ i: number }>();
  let seen = 0;
  const run = pipeline('mq')
    .from(source)
    .decode(json({ i: 'integer' }))
    .map((v) => (seen++, v))
    .to(out)
    .run({ checkpoints: store, checkpointIntervalMs: 20 });
  const deadline = Date.now() + 20_000;
  while (seen < want) {
    assert.ok(Date.now() < deadline, `only ${seen} of ${want} messages within 20 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await run.stop();
  return out.values.map((v) => v.i);
}

describe('mqttSource', { skip }, () => {
  it('spooled: every message once across a restart, including those published while it was down', async (t) => {
    const log = Log.open(tempDir(t));
    t.after(() => log.close());
    const topic = `sluice-test/${uniqueName('spool')}`;
    const clientId = await session(topic);
    const store = new MemoryCheckpointStore();
    await publish(topic, 0, 150);
    const first = await readUntil(mqttSource({ url: URL_, topic, clientId, spool: { log } }), store, 150);
    // Down: the broker queues QoS 1 messages for the persistent session.
    await publish(topic, 150, 250);
    const second = await readUntil(mqttSource({ url: URL_, topic, clientId, spool: { log } }), store, 100);
    assert.deepEqual(
      [...first, ...second].sort((a, b) => a - b),
      Array.from({ length: 250 }, (_, i) => i),
    );
    assert.equal(new Set([...first, ...second]).size, 250, 'no message twice');
  });

  it('in memory: reads a topic filter with QoS 1', async () => {
    const base = `sluice-test/${uniqueName('mem')}`;
    const clientId = await session(`${base}/+`);
    await publish(`${base}/a`, 0, 100);
    const got = await readUntil(
      mqttSource({ url: URL_, topic: `${base}/+`, clientId }),
      new MemoryCheckpointStore(),
      100,
    );
    assert.deepEqual(
      [...got].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('says what to fix when the broker is unreachable', async () => {
    const src = mqttSource({ url: 'mqtt://127.0.0.1:1', topic: 'x', connectTimeoutMs: 500 });
    await assert.rejects(src.open({ pipeline: 'mq', startOffsets: undefined }), {
      code: 'SLUICE_SOURCE_UNAVAILABLE',
      message: /is the broker running/,
    });
  });
});
