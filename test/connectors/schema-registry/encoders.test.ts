import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AvroDeserializer,
  AvroSerializer,
  JsonDeserializer,
  JsonSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import pbjs from 'protobufjs';
import { topicSink, type ActionEntry } from '../../../src/actions/index.js';
import { startSchemaRegistry, type RunningSchemaRegistry } from '../../../src/broker/index.js';
import { avro, jsonSchema, protobuf } from '../../../src/connectors/index.js';
import { Log } from '../../../src/log/index.js';
import { collect, fromArray, MemoryDeadLetters, pipeline, type Decoder } from '../../../src/stream/index.js';

// Sluice's encoders write through the embedded registry; Confluent's JavaScript deserializers
// (an independent reader of the wire format) and Sluice's decoders read the records back.

const V1 = {
  type: 'record',
  name: 'Alert',
  namespace: 'fraud',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'score', type: 'double' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'reason', type: 'string', default: 'model' }] };
const NO_DEFAULT = { ...V1, fields: [...V1.fields, { name: 'merchant', type: 'string' }] };

const entry = (n: number, payload: unknown): ActionEntry => ({
  key: `k${n}`,
  action: 'alert',
  payload,
  time: 0,
  recordKey: undefined,
  eventTime: 1_700_000_000_000 + n,
});

async function decodeAll<T>(values: unknown[], decoder: Decoder<T>) {
  const out = collect<T>();
  const dead = new MemoryDeadLetters();
  await pipeline('encoder-test').from(fromArray(values)).decode(decoder).to(out).run({ deadLetters: dead })
    .done;
  return { values: JSON.parse(JSON.stringify(out.values)) as T[], reasons: dead.items.map((d) => d.reason) };
}

describe('schema registry encoders (embedded registry, Confluent deserializers as readers)', () => {
  let reg: RunningSchemaRegistry;
  let client: SchemaRegistryClient;
  let log: Log;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-encoders-'));
  before(async () => {
    reg = await startSchemaRegistry({ port: 0, host: '127.0.0.1', dir: null, users: null, warn: () => {} });
    client = new SchemaRegistryClient({ baseURLs: [reg.url] });
    log = Log.open(dir, { fsync: 'never' });
  });
  after(async () => {
    log.close();
    await reg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Delivers payloads through a topic sink with `encode`; returns the written values and the rejections. */
  async function write(topic: string, encode: ReturnType<typeof avro>, payloads: unknown[]) {
    const sink = topicSink({ log, topic, encode });
    await sink.open!({} as never);
    const start = log.hasTopic(topic) ? log.partition(topic, 0).highWatermark : 0;
    const r = await sink.deliver(payloads.map((p, i) => entry(start + i, p)));
    const { records } = log.partition(topic, 0).read(start, 1 << 20);
    return { values: records.map((x) => x.value!), rejected: r.rejected.map((x) => x.reason) };
  }

  it('writes Avro that Confluent’s AvroDeserializer reads, registering under <topic>-value', async () => {
    const { values, rejected } = await write('alerts', avro({ registry: reg.url, schema: V1 }), [
      { id: 1, score: 0.9 },
      { id: 2, score: 0.1 },
    ]);
    assert.deepEqual(rejected, []);
    const id = (await client.getLatestSchemaMetadata('alerts-value')).id;
    assert.deepEqual([...values[0]!.subarray(0, 5)], [0, 0, 0, 0, id], 'magic byte 0, then the schema id');
    const de = new AvroDeserializer(client, SerdeType.VALUE, {});
    // Plain objects: avsc returns instances of the record's class.
    const read = JSON.parse(
      JSON.stringify(await Promise.all(values.map((v) => de.deserialize('alerts', v)))),
    );
    assert.deepEqual(read, [
      { id: 1, score: 0.9 },
      { id: 2, score: 0.1 },
    ]);
  });

  it('evolves both ways: v1 records read with a v2 reader, v2 records with a v1 reader; an incompatible writer is refused', async () => {
    const a = await write('evolve', avro({ registry: reg.url, schema: V1 }), [{ id: 1, score: 0.5 }]);
    const b = await write('evolve', avro({ registry: reg.url, schema: V2 }), [
      { id: 2, score: 0.7, reason: 'rule' },
    ]);
    assert.deepEqual(await client.getAllVersions('evolve-value'), [1, 2]);
    const both = [a.values[0], b.values[0]];
    const newReader = await decodeAll(both, avro({ registry: reg.url, schema: V2 }));
    assert.deepEqual(newReader.values, [
      { id: 1, score: 0.5, reason: 'model' },
      { id: 2, score: 0.7, reason: 'rule' },
    ]);
    const oldReader = await decodeAll(both, avro({ registry: reg.url, schema: V1 }));
    assert.deepEqual(oldReader.values, [
      { id: 1, score: 0.5 },
      { id: 2, score: 0.7 },
    ]);
    // BACKWARD (the default): a field without a default cannot be read from v2 records.
    await assert.rejects(
      write('evolve', avro({ registry: reg.url, schema: NO_DEFAULT }), [{ id: 3, score: 1, merchant: 'x' }]),
      /refused \(HTTP 409\).*incompatible/,
    );
    // Without a schema, the encoder writes with the subject's latest version (v2).
    const latest = await write('evolve', avro({ registry: reg.url }), [{ id: 4, score: 0.2, reason: 'x' }]);
    assert.deepEqual((await decodeAll(latest.values, avro({ registry: reg.url }))).values, [
      { id: 4, score: 0.2, reason: 'x' },
    ]);
    // autoRegister off: a schema not registered is an error saying so.
    await assert.rejects(
      write('evolve', avro({ registry: reg.url, schema: { ...V1, name: 'Other' }, autoRegister: false }), [
        {},
      ]),
      /not registered under subject "evolve-value"/,
    );
  });

  it('rejects a payload that does not fit the schema with the reason, and writes the rest', async () => {
    const { values, rejected } = await write('bad', avro({ registry: reg.url, schema: V1 }), [
      { id: 1, score: 'high' },
      { id: 2, score: 0.3 },
    ]);
    assert.equal(values.length, 1);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /avro: value does not match the Avro schema: score = "high" is not double/);
  });

  it('writes JSON Schema that Confluent’s JsonDeserializer reads; an invalid value is rejected', async () => {
    const schema = {
      type: 'object',
      properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['id'],
    };
    const { values, rejected } = await write('json-alerts', jsonSchema({ registry: reg.url, schema }), [
      { id: 7, tags: ['a', 'b'] },
      { tags: [] },
    ]);
    assert.match(
      rejected[0]!,
      /json-schema: value does not match the JSON Schema: \/ must have required property 'id'/,
    );
    const de = new JsonDeserializer(client, SerdeType.VALUE, {});
    assert.deepEqual(await de.deserialize('json-alerts', values[0]!), { id: 7, tags: ['a', 'b'] });
    assert.deepEqual((await decodeAll(values, jsonSchema({ registry: reg.url }))).values, [
      { id: 7, tags: ['a', 'b'] },
    ]);
  });

  it('writes Protobuf with message indexes for a nested type, read back by the decoder', async () => {
    const proto = `syntax = "proto3";
package fraud;
message Envelope { message Alert { int64 id = 1; double score = 2; } string source = 1; }
message Other { string x = 1; }`;
    const { values, rejected } = await write(
      'pb-alerts',
      protobuf({ registry: reg.url, schema: proto, type: 'fraud.Envelope.Alert' }),
      [{ id: 3, score: 0.25 }, { id: 'x' }],
    );
    assert.match(
      rejected[0]!,
      /protobuf: value does not match fraud\.Envelope\.Alert: id: integer\|Long expected/,
    );
    assert.deepEqual(
      [...values[0]!.subarray(5, 8)],
      [4, 0, 0],
      'indexes [0, 0]: count 2, then 0, 0 (zigzag)',
    );
    const decoded = await decodeAll(values, protobuf({ registry: reg.url, type: 'fraud.Envelope.Alert' }));
    assert.deepEqual(decoded.values, [{ id: 3, score: 0.25 }]);
    const other = await write(
      'pb-other',
      protobuf({ registry: reg.url, schema: proto, type: 'fraud.Other' }),
      [{ x: 'y' }],
    );
    assert.deepEqual([...other.values[0]!.subarray(5, 7)], [2, 2], 'indexes [1]');
  });

  it('decodes records whose schemas reference others: an Avro named type, a Protobuf import, a JSON Schema $ref', async () => {
    const money = {
      type: 'record',
      name: 'Money',
      namespace: 'fraud',
      fields: [{ name: 'cents', type: 'long' }],
    };
    await client.register('fraud.Money', { schemaType: 'AVRO', schema: JSON.stringify(money) });
    const payment = {
      type: 'record',
      name: 'Payment',
      namespace: 'fraud',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'amount', type: 'fraud.Money' },
      ],
    };
    await client.register('payments-value', {
      schemaType: 'AVRO',
      schema: JSON.stringify(payment),
      references: [{ name: 'fraud.Money', subject: 'fraud.Money', version: 1 }],
    });
    const ser = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const bytes = await ser.serialize('payments', { id: 1, amount: { cents: 250 } });
    assert.deepEqual((await decodeAll([bytes], avro({ registry: reg.url }))).values, [
      { id: 1, amount: { cents: 250 } },
    ]);

    const moneyProto = 'syntax = "proto3";\npackage fraud;\nmessage Money { int64 cents = 1; }';
    await client.register('money.proto', { schemaType: 'PROTOBUF', schema: moneyProto });
    const paymentProto =
      'syntax = "proto3";\npackage fraud;\nimport "money.proto";\nmessage Payment { int64 id = 1; Money amount = 2; }';
    const id = await client.register('pb-payments-value', {
      schemaType: 'PROTOBUF',
      schema: paymentProto,
      references: [{ name: 'money.proto', subject: 'money.proto', version: 1 }],
    });
    const root = pbjs.parse(moneyProto).root;
    pbjs.parse(paymentProto, root);
    const Payment = root.lookupType('fraud.Payment');
    const head = Buffer.alloc(6);
    head.writeUInt32BE(id, 1); // byte 5: message indexes [0], Payment is the file's first own message
    const framed = Buffer.concat([head, Payment.encode({ id: 2, amount: { cents: 99 } }).finish()]);
    assert.deepEqual(
      (await decodeAll([framed], protobuf({ registry: reg.url, type: 'fraud.Payment' }))).values,
      [{ id: 2, amount: { cents: 99 } }],
    );

    // JSON Schema: a $ref to a schema of another subject, by its reference name.
    const customer = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    await client.register('customer', { schemaType: 'JSON', schema: JSON.stringify(customer) });
    await client.register('orders-value', {
      schemaType: 'JSON',
      schema: JSON.stringify({
        type: 'object',
        properties: { id: { type: 'integer' }, customer: { $ref: 'customer.json' } },
        required: ['id', 'customer'],
      }),
      references: [{ name: 'customer.json', subject: 'customer', version: 1 }],
    });
    const jsonSer = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const good = await jsonSer.serialize('orders', { id: 1, customer: { name: 'Ada' } });
    const orderId = (await client.getLatestSchemaMetadata('orders-value')).id;
    const bad = Buffer.concat([good.subarray(0, 5), Buffer.from('{"id":2,"customer":{}}')]);
    assert.equal(good.readUInt32BE(1), orderId);
    const orders = await decodeAll([good, bad], jsonSchema({ registry: reg.url }));
    assert.deepEqual(orders.values, [{ id: 1, customer: { name: 'Ada' } }]);
    assert.match(orders.reasons[0]!, /\/customer must have required property 'name'/);
  });
});
