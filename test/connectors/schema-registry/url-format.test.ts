import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import avsc from 'avsc';
import { decoderFromUrl, sourceFromUrl } from '../../../src/connectors/index.js';
import { collect, fromArray, MemoryDeadLetters, pipeline } from '../../../src/stream/index.js';
import { TestRegistry } from './registry-server.js';

const TX_SCHEMA = { id: 'integer', amount: 'number' } as const;
const TX_AVRO = {
  type: 'record',
  name: 'Transaction',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'double' },
  ],
};
const NO_AMOUNT = { type: 'record', name: 'Partial', fields: [{ name: 'id', type: 'long' }] };

function frame(id: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, payload]);
}

describe('decoderFromUrl: ?format= and &registry= of a source URL', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await new TestRegistry().start();
  });
  after(() => reg.stop());

  it('reads Avro records and checks them against the pipeline schema (a missing field is a dead letter)', async () => {
    const good = reg.register('tx-value', JSON.stringify(TX_AVRO));
    const partial = reg.register('tx-value', JSON.stringify(NO_AMOUNT));
    const url = `kafka://127.0.0.1:9092/tx?format=avro&registry=${reg.url}`;
    const out = collect<{ id: number; amount: number }>();
    const dead = new MemoryDeadLetters();
    await pipeline('url-avro')
      .from(
        fromArray([
          frame(good, avsc.Type.forSchema(TX_AVRO as never).toBuffer({ id: 1, amount: 2.5 })),
          frame(partial, avsc.Type.forSchema(NO_AMOUNT as never).toBuffer({ id: 2 })),
        ]),
      )
      .decode(decoderFromUrl(url, TX_SCHEMA))
      .to(out)
      .run({ deadLetters: dead }).done;
    assert.deepEqual(
      out.values.map((v) => ({ ...v })),
      [{ id: 1, amount: 2.5 }],
    );
    assert.deepEqual(
      dead.items.map((d) => d.reason),
      ['field "amount" is missing'],
    );
  });

  it('keeps json(schema) without ?format= and with format=json', () => {
    for (const url of ['kafka://h:9092/t', 'kafka://h:9092/t?format=json']) {
      const d = decoderFromUrl(url, TX_SCHEMA);
      assert.equal(d.name, 'json');
      assert.deepEqual(d.decode(Buffer.from('{"id":1,"amount":2}')), { id: 1, amount: 2 });
    }
  });

  it('says what to fix for an unknown format or a missing registry', () => {
    assert.throws(
      () => decoderFromUrl('kafka://h:9092/t?format=thrift', TX_SCHEMA),
      /format "thrift" is not supported \(use json, avro, protobuf, json-schema\)/,
    );
    assert.throws(
      () => decoderFromUrl('kafka://h:9092/t?format=protobuf', TX_SCHEMA),
      /format=protobuf needs the schema registry: add &registry=http:\/\/HOST:PORT/,
    );
  });

  it('leaves the Kafka source to accept the URL with its format parameters', () => {
    const src = sourceFromUrl(`kafka://127.0.0.1:9092/tx?format=avro&registry=${reg.url}`);
    assert.equal(typeof src.poll, 'function');
  });
});
