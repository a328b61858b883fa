import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/log/index.js';
import { describe, it } from 'node:test';
import { mqttSpoolTopic, natsStreamName, sourceFromUrl } from '../../src/connectors/index.js';

describe('sourceFromUrl', () => {
  it('builds the source each scheme names', () => {
    assert.equal(
      sourceFromUrl('kafka://127.0.0.1:9092,b2/transactions?group=fraud').name,
      'kafka:transactions',
    );
    assert.equal(sourceFromUrl('mqtt://127.0.0.1:1883/sensors/+/temp').name, 'mqtt:sensors/+/temp');
    assert.equal(
      sourceFromUrl('mqtt://127.0.0.1:1883/sensors/%23').name,
      'mqtt:sensors/#',
      '"#" is written %23 in a URL',
    );
    assert.equal(sourceFromUrl('nats://127.0.0.1:4222/orders.created').name, 'nats:orders.created');
    assert.equal(sourceFromUrl('redis://127.0.0.1:6379/events?group=g&field=data').name, 'redis:events');
    assert.equal(sourceFromUrl('file:data/tx.csv').name, 'file:tx');
    assert.equal(sourceFromUrl(`file://${join('/tmp', 'x.ndjson')}`).name, 'file:x');
  });

  it('log:DIR/topic reads a topic of an embedded log, and closes the log with the source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-source-url-'));
    try {
      const log = Log.open(dir);
      log.createTopic('tx', { partitions: 1 });
      log.partition('tx', 0).append([{ value: Buffer.from('{"a":1}') }]);
      log.close();
      const source = sourceFromUrl(`log:${dir}/tx`, { endWhen: () => true });
      assert.equal(source.name, 'log:tx');
      await source.open({ pipeline: 't', startOffsets: undefined });
      assert.deepEqual(
        (await source.poll(10))!.map((e) => String(e.value)),
        ['{"a":1}'],
      );
      assert.equal(await source.poll(10), null);
      await source.close();
      Log.open(dir).close(); // the source let go of the log's lock
      assert.throws(() => sourceFromUrl(`log:${dir}/nope`), /topic "nope" does not exist/);
      Log.open(dir).close(); // ... also when the topic was missing
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what is wrong and lists the schemes it knows', () => {
    for (const bad of [
      'kafka://host:9092',
      'mqtt://h:1883',
      'nats://h:4222/',
      'amqp://h/q',
      'events',
      'file:',
      'log:data/',
    ])
      assert.throws(
        () => sourceFromUrl(bad),
        { code: 'SLUICE_SOURCE_URL', message: /use one of kafka:\/\/host:port\/topic/ },
        bad,
      );
  });

  it('derives legal spool topic and stream names', () => {
    assert.equal(mqttSpoolTopic('sensors/+/temp/#'), 'mqtt.sensors_plus_temp_all');
    assert.equal(natsStreamName('orders.*.created.>'), 'SLUICE_orders_STAR_created_ALL');
  });
});

describe('kinesis:// URLs', () => {
  it('parses the stream, region and endpoint', async () => {
    const { parseKinesisUrl } = await import('../../src/core/kinesis-url.js');
    const u = parseKinesisUrl('kinesis://tx.in-1?region=eu-west-1&endpoint=http://127.0.0.1:4567');
    assert.equal(u.stream, 'tx.in-1');
    assert.equal(u.region, 'eu-west-1');
    assert.equal(u.endpoint, 'http://127.0.0.1:4567');
    assert.equal(parseKinesisUrl('kinesis://tx').region, undefined, 'region from the AWS chain');
    assert.equal(sourceFromUrl('kinesis://tx?region=eu-west-1').name, 'kinesis:tx');
  });

  it('names what is wrong', () => {
    for (const [bad, why] of [
      ['kinesis://', /is not a stream name/],
      ['kinesis://a b', /is not a stream name/],
      ['kinesis://tx?endpoint=127.0.0.1:4567', /must be an http\(s\):\/\/ URL/],
      ['kinesis://tx?start=middle', /start=trim-horizon \(default\) or start=latest/],
      ['kinesis://tx?limit=all', /records per GetRecords call, 1 to 10000/],
      ['kinesis://tx?limit=20000', /records per GetRecords call, 1 to 10000/],
    ] as const)
      assert.throws(() => sourceFromUrl(bad), { code: 'SLUICE_SOURCE_URL', message: why }, bad);
  });
});
