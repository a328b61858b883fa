// The broker's embedded Schema Registry with independent producers: confluent-kafka Python's
// ProtobufSerializer and JSONSerializer, Confluent’s JavaScript AvroSerializer and ProtobufSerializer, each
// registering its schema (auto-register, subject `<topic>-value`) in the registry `sluice broker`
// serves and producing to the broker; `sluice demo fraud --from
// 'kafka://…?format=…&registry=…'` then scores every transaction, none dead-lettered.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  AvroDeserializer,
  AvroSerializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import { Kafka, logLevel } from 'kafkajs';
import { generateTransactions } from '../../src/apps/fraud/generator.js';
import { needService } from '../helpers/services.js';
import { fraudDemoReadsAll, runSluice } from './helpers.js';
import { testBroker } from '../broker/helpers.js';
import { PYTHON, pythonHas, run } from '../broker/processes.js';
import { topicSink } from '../../src/actions/index.js';
import { jsonSchema, protobuf } from '../../src/connectors/index.js';
import { protoFileRegistry } from '../connectors/schema-registry/proto-descriptors.js';

const TX_PROTO = `syntax = "proto3";
package fraud;
message Transaction {
  int64 id = 1; int64 ts = 2; int64 customerId = 3; int64 terminalId = 4;
  double amount = 5; int32 fraud = 6; int32 scenario = 7;
}`;

const N = 300;
const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-embedded-registry-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const noPython = await needService(
  'python3 with confluent_kafka, google.protobuf, jsonschema and requests',
  async () =>
    (await pythonHas('confluent_kafka')) &&
    (await pythonHas('google.protobuf')) &&
    (await pythonHas('jsonschema')) &&
    (await pythonHas('requests')),
);

/** The fraud demo reads every record of `topic` through the registry (`query`: format, registry, type). */
const demoReads = (address: string, topic: string, query: string) =>
  fraudDemoReadsAll(tmp, topic, `kafka://${address}/${topic}?${query}`, N);

const txs = generateTransactions(N, { seed: 11 });

test(
  'confluent-kafka Python Protobuf and JSON Schema producers register in the embedded registry; the fraud demo reads them',
  { skip: noPython, timeout: 240_000 },
  async (t) => {
    const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
    const registry = broker.schemaRegistry!.url;
    const file = join(tmp, 'tx.ndjson');
    writeFileSync(file, txs.map((tx) => JSON.stringify(tx)).join('\n') + '\n');
    for (const [format, topic] of [
      ['protobuf', 'tx-proto-py'],
      ['json', 'tx-json-py'],
    ] as const) {
      const script = join(root, 'test/integration/fixtures/registry_producer.py');
      const py = await run(PYTHON, [script, broker.address, registry, file, format, topic], {
        timeoutMs: 90_000,
      });
      assert.equal(py.code, 0, `${format}: ${py.stderr}`);
      assert.equal(py.stdout.trim(), String(N));
    }
    const subjects = (await (await fetch(`${registry}/subjects`)).json()) as string[];
    assert.deepEqual(subjects.sort(), ['tx-json-py-value', 'tx-proto-py-value']);
    await demoReads(
      broker.address,
      'tx-proto-py',
      `format=protobuf&registry=${registry}&type=fraud.Transaction`,
    );
    await demoReads(broker.address, 'tx-json-py', `format=json-schema&registry=${registry}`);
  },
);

test(
  "confluent-kafka Python's SchemaRegistryClient: register, lookup, versions, compatibility, config, delete",
  { skip: noPython, timeout: 60_000 },
  async (t) => {
    const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
    const script = join(root, 'test/integration/fixtures/registry_client.py');
    const py = await run(PYTHON, [script, broker.schemaRegistry!.url], { timeoutMs: 30_000 });
    assert.equal(py.code, 0, py.stderr);
    assert.deepEqual(JSON.parse(py.stdout), {
      id1: 1,
      id1_again: 1,
      id2: 2,
      subjects: ['py-value'],
      versions: [1, 2],
      latest: [2, 2, 'py-value'],
      lookup: [1, 1],
      by_id: 'Tx',
      compatible_v2: true,
      compatible_bad: false,
      register_bad: [409, 409],
      set_level: { compatibility: 'NONE' },
      get_level: 'NONE',
      deleted: [1, 2],
      after_delete: [404, 40401],
    });
  },
);

test(
  "Confluent's JavaScript AvroSerializer (latest version) and ProtobufSerializer (auto-register) use the embedded registry; the fraud demo reads the records",
  { timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
    const registry = broker.schemaRegistry!.url;
    const schema = {
      type: 'record',
      name: 'Transaction',
      namespace: 'fraud',
      fields: ['id', 'ts', 'customerId', 'terminalId']
        .map((name) => ({ name, type: 'long' }))
        .concat([
          { name: 'amount', type: 'double' },
          { name: 'fraud', type: 'int' },
          { name: 'scenario', type: 'int' },
        ]),
    };
    const client = new SchemaRegistryClient({ baseURLs: [registry] });
    // Registered as a producer's deployment would; the serializer then writes with the latest version.
    await client.register('tx-avro-js-value', { schemaType: 'AVRO', schema: JSON.stringify(schema) });
    const ser = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const kafka = new Kafka({
      clientId: 'embedded-registry',
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    // Protobuf: the serializer auto-registers its schema, a serialized descriptor in base64.
    const proto = protoFileRegistry(TX_PROTO, 'fraud.proto');
    const pbSer = new ProtobufSerializer(client, SerdeType.VALUE, {
      autoRegisterSchemas: true,
      registry: proto.files,
    });
    const asProto = (tx: (typeof txs)[number]) =>
      proto.create('fraud.Transaction', {
        ...tx,
        id: BigInt(tx.id),
        ts: BigInt(tx.ts),
        customerId: BigInt(tx.customerId),
        terminalId: BigInt(tx.terminalId),
      });
    try {
      const avroMessages = [];
      const protoMessages = [];
      for (const tx of txs) {
        avroMessages.push({ value: await ser.serialize('tx-avro-js', tx) });
        protoMessages.push({ value: await pbSer.serialize('tx-proto-js', asProto(tx)) });
      }
      await producer.send({ topic: 'tx-avro-js', messages: avroMessages });
      await producer.send({ topic: 'tx-proto-js', messages: protoMessages });
    } finally {
      await producer.disconnect();
    }
    const latest = await client.getLatestSchemaMetadata('tx-avro-js-value');
    assert.equal(latest.version, 1);
    await demoReads(broker.address, 'tx-avro-js', `format=avro&registry=${registry}`);
    await demoReads(
      broker.address,
      'tx-proto-js',
      `format=protobuf&registry=${registry}&type=fraud.Transaction`,
    );
  },
);

test(
  '--alerts-to kafka://…?format=avro&registry=…&schema=FILE writes alerts that Confluent’s AvroDeserializer reads',
  { timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
    const registry = broker.schemaRegistry!.url;
    const schemaFile = join(tmp, 'alert.avsc');
    const fields = ['tx', 'customer', 'terminal'].map((name) => ({ name, type: 'long' }));
    fields.push({ name: 'amount', type: 'double' }, { name: 'score', type: 'double' });
    writeFileSync(schemaFile, JSON.stringify({ type: 'record', name: 'Alert', namespace: 'fraud', fields }));
    const r = await runSluice(
      [
        'demo',
        'fraud',
        '--json',
        '--quiet',
        '--no-dashboard',
        '--events',
        '8000',
        '--seed',
        '7',
        '--data',
        join(tmp, 'alerts-avro'),
        '--alerts-to',
        `kafka://${broker.address}/alerts?format=avro&registry=${registry}&schema=${schemaFile}`,
      ],
      tmp,
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim()) as { actions: number };
    assert.ok(summary.actions > 0, 'some alerts');
    const { records } = broker.log.partition('alerts', 0).read(0, 16 << 20);
    assert.equal(records.length, summary.actions, 'one record per alert');
    const client = new SchemaRegistryClient({ baseURLs: [registry] });
    const de = new AvroDeserializer(client, SerdeType.VALUE, {});
    const first = (await de.deserialize('alerts', records[0]!.value!)) as Record<string, number>;
    assert.deepEqual(Object.keys(first).sort(), ['amount', 'customer', 'score', 'terminal', 'tx']);
    assert.ok(first.score! > 0 && first.score! <= 1);
    assert.equal((await client.getLatestSchemaMetadata('alerts-value')).version, 1);
  },
);

test(
  "Sluice's Protobuf and JSON Schema encoders write records that confluent-kafka Python's deserializers read",
  { skip: noPython, timeout: 120_000 },
  async (t) => {
    const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
    const registry = broker.schemaRegistry!.url;
    const few = txs.slice(0, 50);
    const jsonTx = {
      type: 'object',
      properties: Object.fromEntries(
        Object.keys(few[0]!).map((k) => [k, { type: k === 'amount' ? 'number' : 'integer' }]),
      ),
      required: Object.keys(few[0]!),
    };
    for (const [format, encode] of [
      ['protobuf', protobuf({ registry, schema: TX_PROTO, type: 'fraud.Transaction' })],
      ['json', jsonSchema({ registry, schema: jsonTx })],
    ] as const) {
      const topic = `sluice-${format}`;
      const sink = topicSink({ log: broker.log, topic, encode });
      await sink.open!({} as never);
      const entries = few.map((tx, i) => ({
        key: `k${i}`,
        action: 'tx',
        payload: tx,
        time: 0,
        recordKey: undefined,
        eventTime: tx.ts,
      }));
      assert.deepEqual((await sink.deliver(entries)).rejected, []);
      sink.flush!();
      const script = join(root, 'test/integration/fixtures/registry_consumer.py');
      const py = await run(PYTHON, [script, broker.address, topic, format, String(few.length)], {
        timeoutMs: 90_000,
      });
      assert.equal(py.code, 0, `${format}: ${py.stderr}`);
      assert.deepEqual(JSON.parse(py.stdout), few, `${format}: every field as written`);
    }
  },
);
