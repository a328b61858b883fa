// `sluice demo fraud --from 'kafka://HOST:PORT/TOPIC?format=avro&registry=http://HOST:PORT'`:
// transactions serialized by Confluent's JavaScript serializers (Avro, JSON Schema, Protobuf; schemas
// registered over HTTP in a test registry) and produced with KafkaJS into `sluice broker` are
// all scored by the demo, none dead-lettered.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  AvroSerializer,
  JsonSerializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
} from '@confluentinc/schemaregistry';
import { Kafka, logLevel } from 'kafkajs';
import { generateTransactions, type Transaction } from '../../src/apps/fraud/generator.js';
import { testBroker } from '../broker/helpers.js';
import { protoFileRegistry } from '../connectors/schema-registry/proto-descriptors.js';
import { TestRegistry } from '../connectors/schema-registry/registry-server.js';
import { fraudDemoReadsAll } from './helpers.js';

const N = 400;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-avro-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TX_AVRO = {
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
const TX_JSON_SCHEMA = {
  type: 'object',
  properties: { id: { type: 'integer' }, amount: { type: 'number' } },
  required: ['id', 'ts', 'customerId', 'terminalId', 'amount', 'fraud'],
};

const TX_PROTO = `syntax = "proto3";
package fraud;
message Transaction {
  int64 id = 1; int64 ts = 2; int64 customerId = 3; int64 terminalId = 4;
  double amount = 5; int32 fraud = 6; int32 scenario = 7;
}`;

test(
  'the fraud demo scores Avro, JSON Schema and Protobuf transactions read through a schema registry',
  { timeout: 180_000 },
  async (t) => {
    const broker = await testBroker(t);
    const reg = await new TestRegistry().start();
    t.after(() => reg.stop());
    const client = new SchemaRegistryClient({ baseURLs: [reg.url] });
    const avroId = await client.register('tx-avro-value', {
      schemaType: 'AVRO',
      schema: JSON.stringify(TX_AVRO),
    });
    const jsonId = await client.register('tx-json-schema-value', {
      schemaType: 'JSON',
      schema: JSON.stringify(TX_JSON_SCHEMA),
    });
    const proto = protoFileRegistry(TX_PROTO, 'fraud.proto');
    const protoSerializer = new ProtobufSerializer(client, SerdeType.VALUE, {
      autoRegisterSchemas: true,
      registry: proto.files,
    });
    const serializers: Record<string, { serialize(topic: string, tx: Transaction): Promise<Buffer> }> = {
      avro: new AvroSerializer(client, SerdeType.VALUE, { useSchemaId: avroId }),
      'json-schema': new JsonSerializer(client, SerdeType.VALUE, { useSchemaId: jsonId }),
      // bufbuild messages hold 64-bit integers as bigints.
      protobuf: {
        serialize: (topic, tx) =>
          protoSerializer.serialize(
            topic,
            proto.create('fraud.Transaction', {
              ...tx,
              id: BigInt(tx.id),
              ts: BigInt(tx.ts),
              customerId: BigInt(tx.customerId),
              terminalId: BigInt(tx.terminalId),
            }),
          ),
      },
    };
    const txs = generateTransactions(N, { seed: 5 });
    const kafka = new Kafka({
      clientId: 'fraud-avro',
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (const [format, ser] of Object.entries(serializers)) {
        const topic = `tx-${format}`;
        const messages = [];
        for (const tx of txs) messages.push({ value: await ser.serialize(topic, tx) });
        await producer.send({ topic, messages });
      }
    } finally {
      await producer.disconnect();
    }
    for (const format of Object.keys(serializers)) {
      const topic = `tx-${format}`;
      await fraudDemoReadsAll(
        tmp,
        topic,
        `kafka://${broker.address}/${topic}?format=${format}&registry=${reg.url}${format === 'protobuf' ? '&type=fraud.Transaction' : ''}`,
        N,
      );
    }
  },
);
