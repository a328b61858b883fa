import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AvroSerializer,
  JsonSerializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import pbjs from 'protobufjs';
import { avro, jsonSchema, protobuf, SchemaRegistry } from '../../../src/connectors/index.js';
import { collect, fromArray, MemoryDeadLetters, pipeline, type Decoder } from '../../../src/stream/index.js';
import { protoFileRegistry } from './proto-descriptors.js';
import { TestRegistry } from './registry-server.js';

// The bytes are produced by Confluent's own JavaScript serializers (an independent
// implementation of the wire format), registering their schemas over HTTP in the test registry.

const TX_V1 = {
  type: 'record',
  name: 'Transaction',
  namespace: 'fraud',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'double' },
  ],
};
const TX_V2 = {
  ...TX_V1,
  fields: [...TX_V1.fields, { name: 'currency', type: 'string', default: 'EUR' }],
};
/** A reader that needs a field v1 writers never wrote and gives it no default: incompatible. */
const TX_NO_DEFAULT = { ...TX_V1, fields: [...TX_V1.fields, { name: 'merchant', type: 'string' }] };

/** Frames a payload by hand in the Confluent wire format (for records a serializer would refuse). */
function frame(id: number, payload: Uint8Array | string, prefix: number[] = []): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, Buffer.from(prefix), Buffer.from(payload)]);
}

async function decodeAll<T>(values: unknown[], decoder: Decoder<T>, batchSize = 1024) {
  const out = collect<T>();
  const dead = new MemoryDeadLetters();
  await pipeline('registry-test')
    .from(fromArray(values))
    .decode(decoder)
    .to(out)
    .run({ deadLetters: dead, batchSize }).done;
  return { values: out.values, reasons: dead.items.map((d) => d.reason) };
}

describe('schema registry decoders (Confluent serializers as the producer)', () => {
  let reg: TestRegistry;
  let client: SchemaRegistryClient;
  before(async () => {
    reg = await new TestRegistry().start();
    client = new SchemaRegistryClient({ baseURLs: [reg.url] });
  });
  after(() => reg.stop());

  async function avroBytes(subject: string, schema: object, values: object[]): Promise<Buffer[]> {
    const id = await client.register(`${subject}-value`, {
      schemaType: 'AVRO',
      schema: JSON.stringify(schema),
    });
    const ser = new AvroSerializer(client, SerdeType.VALUE, { useSchemaId: id });
    const out: Buffer[] = [];
    for (const v of values) out.push(await ser.serialize(subject, v));
    return out;
  }

  it('decodes Avro written with v1 and v2 through a v2 reader (defaults fill the new field); ids are fetched once', async () => {
    const v1 = await avroBytes('tx-evolve', TX_V1, [
      { id: 1, amount: 9.5 },
      { id: 2, amount: 3 },
    ]);
    const v2 = await avroBytes('tx-evolve', TX_V2, [{ id: 3, amount: 1.25, currency: 'USD' }]);
    const before = reg.requests;
    const { values, reasons } = await decodeAll(
      [v1[0], v2[0], v1[1], v2[0]],
      avro({ registry: reg.url, schema: TX_V2 }),
      2,
    );
    assert.deepEqual(reasons, []);
    assert.deepEqual(
      values.map((v) => ({ ...v })),
      [
        { id: 1, amount: 9.5, currency: 'EUR' },
        { id: 3, amount: 1.25, currency: 'USD' },
        { id: 2, amount: 3, currency: 'EUR' },
        { id: 3, amount: 1.25, currency: 'USD' },
      ],
    );
    assert.equal(reg.requests - before, 2, 'two schema ids, each fetched once across both batches');
  });

  it('decodes Avro as written without a reader schema, typed by the caller', async () => {
    const [b] = await avroBytes('tx-plain', TX_V1, [{ id: 42, amount: 0.5 }]);
    const { values } = await decodeAll([b], avro<{ id: number; amount: number }>({ registry: reg.url }));
    const amount: number = values[0]!.amount;
    assert.deepEqual([values[0]!.id, amount], [42, 0.5]);
  });

  it('dead-letters an unknown id, a malformed payload, unframed bytes and an incompatible writer, and keeps going', async () => {
    const [good, v1] = [
      ...(await avroBytes('tx-bad', TX_V2, [{ id: 5, amount: 2, currency: 'GBP' }])),
      ...(await avroBytes('tx-bad-v1', TX_V1, [{ id: 6, amount: 1 }])),
    ];
    const truncated = good!.subarray(0, good!.length - 2);
    const { values, reasons } = await decodeAll(
      [frame(9999, 'x'), truncated, Buffer.from('{"id":1}'), good, null],
      avro({ registry: reg.url, schema: TX_V2 }),
    );
    assert.deepEqual(
      values.map((v) => ({ ...v })),
      [{ id: 5, amount: 2, currency: 'GBP' }],
    );
    assert.equal(reasons.length, 4);
    assert.match(reasons[0]!, /unknown schema id 9999/);
    assert.match(reasons[1]!, /malformed Avro payload for schema id \d+/);
    assert.match(
      reasons[2]!,
      /not in the Confluent wire format: first byte is 123, expected the magic byte 0/,
    );
    assert.match(reasons[3]!, /no value/);

    await assert.rejects(
      decodeAll([good], avro({ registry: reg.url, schema: { type: 'record', name: 'R' } })),
      (e: Error & { code?: string }) =>
        e.code === 'SLUICE_OPTION_INVALID' && /the reader schema is not valid Avro/.test(e.message),
    );

    const incompatible = await decodeAll([v1, good], avro({ registry: reg.url, schema: TX_NO_DEFAULT }));
    assert.equal(incompatible.values.length, 0);
    assert.match(
      incompatible.reasons[0]!,
      /records written with schema id \d+ cannot be read with the reader schema/,
    );
    assert.match(incompatible.reasons[1]!, /cannot be read with the reader schema/);
  });

  it('decodes JSON Schema records and dead-letters one that does not match', async () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['id'],
    };
    await client.register('tj-value', { schemaType: 'JSON', schema: JSON.stringify(schema) });
    const ser = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const good = await ser.serialize('tj', { id: 1, tags: ['a'] });
    const id = good.readUInt32BE(1);
    const { values, reasons } = await decodeAll(
      [good, frame(id, '{"id":"one"}'), frame(id, '{"id":'), frame(id, '{"tags":[]}')],
      jsonSchema<{ id: number; tags?: string[] }>({ registry: reg.url }),
    );
    assert.deepEqual(values, [{ id: 1, tags: ['a'] }]);
    assert.match(reasons[0]!, new RegExp(`does not match JSON Schema id ${id}: /id must be integer`));
    assert.match(reasons[1]!, /malformed JSON payload/);
    assert.match(reasons[2]!, /must have required property 'id'/);
  });

  it('decodes Protobuf from the Confluent serializer (message indexes, nested types, 64-bit ids) and checks the type', async () => {
    const proto = `syntax = "proto3";
package fraud;
message Refund { string reason = 1; }
message Transaction {
  int64 id = 1;
  double amount = 2;
  string currency = 3;
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 4;
}`;
    const { files, create } = protoFileRegistry(proto, 'fraud.proto');
    const ser = new ProtobufSerializer(client, SerdeType.VALUE, {
      autoRegisterSchemas: true,
      registry: files,
    });
    const tx = await ser.serialize(
      'tp',
      create('fraud.Transaction', { id: 7n, amount: 2.5, currency: 'EUR', lines: [{ sku: 'a', qty: 2 }] }),
    );
    const refund = await ser.serialize('tp', create('fraud.Refund', { reason: 'dup' }));
    // A nested message: the indexes are the path [1, 0] (Transaction, then its first nested type).
    const line = await ser.serialize('tp', create('fraud.Transaction.Line', { sku: 'b', qty: 3 }));
    assert.deepEqual(
      (await decodeAll([line], protobuf({ registry: reg.url, type: 'fraud.Transaction.Line' }))).values,
      [{ sku: 'b', qty: 3 }],
    );
    const { values, reasons } = await decodeAll(
      [tx, refund, tx.subarray(0, tx.length - 3)],
      protobuf<{ id: number; lines: { sku: string }[] }>({ registry: reg.url, type: 'fraud.Transaction' }),
    );
    assert.deepEqual(values, [{ id: 7, amount: 2.5, currency: 'EUR', lines: [{ sku: 'a', qty: 2 }] }]);
    assert.match(reasons[0]!, /record is a fraud.Refund \(schema id \d+\), expected a fraud.Transaction/);
    assert.match(reasons[1]!, /malformed Protobuf payload/);
  });

  it('decodes Protobuf registered as .proto text (what registries answer), first message by the short index form', async () => {
    const text =
      'syntax = "proto3";\npackage demo;\nimport "google/protobuf/timestamp.proto";\nmessage Click { string page = 1; google.protobuf.Timestamp at = 2; }\n';
    const id = reg.register('clicks-value', text, 'PROTOBUF');
    const producerRoot = new pbjs.Root();
    producerRoot.addJSON(pbjs.common.get('google/protobuf/timestamp.proto')!.nested!);
    const Click = pbjs.parse(text, producerRoot).root.lookupType('demo.Click');
    const payload = Click.encode(Click.fromObject({ page: '/home', at: { seconds: 5 } })).finish();
    const { values, reasons } = await decodeAll(
      [frame(id, payload, [0]), frame(id, payload, [2, 4])],
      protobuf({ registry: reg.url }),
    );
    assert.deepEqual(values, [{ page: '/home', at: { seconds: 5, nanos: 0 } }]);
    assert.match(reasons[0]!, /has no message at index path \[2\]/);
  });
});

describe('schema registry outages and settings', () => {
  it('holds the batch while the registry is down (no dead letters), then decodes it when it is back', async () => {
    const reg = await new TestRegistry().start();
    try {
      const id = reg.register('t-value', JSON.stringify(TX_V1));
      const ser = (await import('avsc')).default.Type.forSchema(TX_V1 as never);
      const rec = frame(id, ser.toBuffer({ id: 1, amount: 1 }));
      reg.down = true;
      const out = collect<unknown>();
      const dead = new MemoryDeadLetters();
      const run = pipeline('outage')
        .from(fromArray([rec, rec]))
        .decode(avro({ registry: reg.url }))
        .to(out)
        .run({ deadLetters: dead });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(out.values.length, 0, 'nothing decoded while the registry is down');
      assert.equal(dead.count, 0, 'an outage is not a bad record');
      reg.down = false;
      const s = await run.done;
      assert.equal(out.values.length, 2);
      assert.equal(dead.count, 0);
      assert.equal(s.stopped, false);

      // A stop during an outage leaves the batch unfinished: nothing decoded, nothing dead.
      reg.down = true;
      const out2 = collect<unknown>();
      const dead2 = new MemoryDeadLetters();
      const run2 = pipeline('outage-stop')
        .from(fromArray([rec]))
        .decode(avro({ registry: reg.url }))
        .to(out2)
        .run({ deadLetters: dead2 });
      await new Promise((r) => setTimeout(r, 200));
      const s2 = await run2.stop();
      assert.equal(s2.stopped, true);
      assert.deepEqual([out2.values.length, dead2.count], [0, 0]);
    } finally {
      await reg.stop();
    }
  });

  it('sends basic auth from the environment and fails the run (not the records) when refused', async () => {
    const reg = await new TestRegistry().start();
    reg.auth = 'sluice:s3cret';
    try {
      const id = reg.register('a-value', JSON.stringify(TX_V1));
      const rec = frame(
        id,
        (await import('avsc')).default.Type.forSchema(TX_V1 as never).toBuffer({ id: 1, amount: 1 }),
      );
      process.env.SLUICE_SCHEMA_REGISTRY_USER = 'sluice';
      process.env.SLUICE_SCHEMA_REGISTRY_PASSWORD = 's3cret';
      assert.equal((await decodeAll([rec], avro({ registry: reg.url }))).values.length, 1);
      process.env.SLUICE_SCHEMA_REGISTRY_PASSWORD = 'wrong';
      await assert.rejects(decodeAll([rec], avro({ registry: reg.url })), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SLUICE_SCHEMA_REGISTRY_REFUSED');
        assert.match(e.message, /refused with HTTP 401; check SLUICE_SCHEMA_REGISTRY_USER/);
        assert.doesNotMatch(e.message, /wrong|s3cret/);
        return true;
      });
    } finally {
      delete process.env.SLUICE_SCHEMA_REGISTRY_USER;
      delete process.env.SLUICE_SCHEMA_REGISTRY_PASSWORD;
      await reg.stop();
    }
  });

  it('dead-letters a batch of many unknown ids with a bounded number of fetches in flight', async () => {
    const reg = await new TestRegistry().start();
    try {
      const ids = Array.from({ length: 300 }, (_, i) => 100_000 + i);
      const { values, reasons } = await decodeAll(
        ids.map((id) => frame(id, 'x')),
        avro({ registry: reg.url }),
      );
      assert.equal(values.length, 0);
      assert.equal(reasons.length, 300);
      assert.match(reasons[299]!, /unknown schema id 100299/);
      assert.equal(reg.requests, 300, 'each unknown id asked once');
      assert.ok(reg.maxInFlight <= 8, `at most 8 fetches at once, saw ${reg.maxInFlight}`);
    } finally {
      await reg.stop();
    }
  });

  it('rejects a registry URL with credentials in it, without echoing them', () => {
    assert.throws(
      () => new SchemaRegistry({ url: 'http://u:hunter2@127.0.0.1:8081' }),
      (e: Error) => /holds credentials/.test(e.message) && !e.message.includes('hunter2'),
    );
  });
});
