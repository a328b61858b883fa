// A W3C `traceparent` travels with a record: in through an HTTP ingest header, an MQTT 5 user
// property or a Kafka header (written by KafkaJS, an independent client), out through the
// topic and Kafka sinks' record headers, so traces continue on both sides of a pipeline.

import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { action, kafkaSink, topicSink } from '../../src/actions/index.js';
import { HttpIngest, kafkaSource, logSource, mqttIngest } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import { fanOut, pipeline, type Sink } from '../../src/stream/index.js';
import { testBroker } from '../broker/helpers.js';
import { tempDir } from '../integration/helpers.js';
import { needService, portOpen } from '../helpers/services.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const noMosquitto = await needService('mosquitto on 127.0.0.1:1883', () => portOpen(1883));

const headerOf = (log: Log, topic: string, offset: number) =>
  log
    .partition(topic, 0)
    .read(offset, 1 << 20)
    .records.find((r) => r.offset === offset)
    ?.headers.find((h) => h.key === 'traceparent')
    ?.value?.toString();

/** The `traceparent` each record of `topic` arrives with, as a pipeline's envelopes carry it. */
async function traceparentsIn(log: Log, topic: string): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  const sink: Sink<unknown> = {
    name: 'tp',
    write: (records) => void out.push(...records.map((r) => r.traceparent)),
  };
  await pipeline('read')
    .from(logSource({ log, topic, endWhen: 'caught-up' }))
    .to(sink)
    .run().done;
  return out;
}

describe('traceparent propagation', () => {
  it('HTTP ingest stores a valid traceparent header on each record; an invalid one is dropped', async (t: TestContext) => {
    const log = Log.open(tempDir(t));
    t.after(() => log.close());
    log.createTopic('tx', { partitions: 1 });
    const ingest = await HttpIngest.start({ log, token: 'tok' });
    t.after(() => ingest.close());
    const post = (traceparent: string) =>
      fetch(`${ingest.url}ingest/tx`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', authorization: 'Bearer tok', traceparent },
        body: '{"a":1}\n{"a":2}\n',
      });
    assert.equal((await post(TP)).status, 200);
    assert.equal((await post('00-zz-bad-01')).status, 200);
    assert.deepEqual(await traceparentsIn(log, 'tx'), [TP, TP, undefined, undefined]);
  });

  it(
    'MQTT 5 user property traceparent reaches the log record',
    { skip: noMosquitto, timeout: 30_000 },
    async (t) => {
      const log = Log.open(tempDir(t));
      t.after(() => log.close());
      const ingest = await mqttIngest({
        url: 'mqtt://127.0.0.1:1883',
        filter: 'trace-test/#',
        log,
        to: 'readings',
        clientId: `trace-test-${process.pid}`,
      });
      t.after(() => ingest.close());
      const { connectAsync } = await import('mqtt');
      const pub = await connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
      await pub.publishAsync('trace-test/s1', '{"v":1}', {
        qos: 1,
        properties: { userProperties: { traceparent: TP } },
      });
      await pub.publishAsync('trace-test/s1', '{"v":2}', { qos: 1 });
      await pub.endAsync();
      const until = Date.now() + 10_000;
      while (log.partition('readings', 0).highWatermark < 2 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(headerOf(log, 'readings', 0), TP);
      assert.equal(headerOf(log, 'readings', 1), undefined);
    },
  );

  it(
    'a Kafka header from KafkaJS reaches the envelope; topic and Kafka sinks write it on',
    { timeout: 60_000 },
    async (t) => {
      const log = Log.open(tempDir(t), { fsync: 'never' });
      t.after(() => log.close());
      log.createTopic('in', { partitions: 1 });
      const broker = await testBroker(t, { log });
      const kafka = new Kafka({
        brokers: [broker.address],
        clientId: 'trace-test',
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: 'in',
        messages: [{ value: '{"i":0}', headers: { traceparent: TP } }, { value: '{"i":1}' }],
      });
      await producer.disconnect();
      const seen: (string | undefined)[] = [];
      const run = pipeline('through')
        .from(kafkaSource({ brokers: broker.address, topic: 'in', groupId: 'trace', endWhen: 'caught-up' }))
        .map((v, env) => (seen.push(env.traceparent), v))
        .to(
          fanOut(
            action({ name: 'local', payload: (v) => String(v), to: topicSink({ log, topic: 'out-local' }) }),
            action({
              name: 'kafka',
              payload: (v) => String(v),
              to: kafkaSink({ brokers: broker.address, topic: 'out-kafka' }),
            }),
          ),
        )
        .run();
      await run.done;
      assert.deepEqual(seen, [TP, undefined]);
      for (const topic of ['out-local', 'out-kafka']) {
        assert.equal(headerOf(log, topic, 0), TP, topic);
        assert.equal(headerOf(log, topic, 1), undefined, topic);
      }
    },
  );
});
