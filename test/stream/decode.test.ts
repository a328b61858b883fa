import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collect,
  DecodeError,
  fromArray,
  json,
  MemoryDeadLetters,
  optional,
  pipeline,
} from '../../src/stream/index.js';

describe('json decoder', () => {
  const dec = json({ id: 'integer', amount: 'number', note: 'string?' });

  it('decodes valid records and keeps extra fields', () => {
    assert.deepEqual(dec.decode(Buffer.from('{"id":1,"amount":2.5,"x":true}')), {
      id: 1,
      amount: 2.5,
      x: true,
    });
  });

  const bad: [string, Buffer | null | string, RegExp][] = [
    ['malformed JSON', Buffer.from('{"id":1,'), /malformed JSON/],
    ['wrong type', Buffer.from('{"id":1,"amount":"3"}'), /field "amount": expected number, got string/],
    ['missing field', Buffer.from('{"amount":3}'), /field "id" is missing/],
    ['not an integer', Buffer.from('{"id":1.5,"amount":3}'), /field "id": expected integer/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), /not valid UTF-8/],
    ['null value', null, /no value/],
    ['array', Buffer.from('[1,2]'), /expected a JSON object, got array/],
    ['optional of wrong type', Buffer.from('{"id":1,"amount":3,"note":5}'), /field "note"/],
  ];
  for (const [name, input, re] of bad) {
    it(`rejects ${name} with a DecodeError that says why`, () => {
      assert.throws(
        () => dec.decode(input),
        (e: unknown) => e instanceof DecodeError && e.code === 'SLUICE_DECODE_FAILED' && re.test(e.message),
      );
    });
  }

  it('rejects oversize records before parsing them', () => {
    const small = json({ id: 'integer' }, { maxBytes: 16 });
    assert.throws(
      () => small.decode(Buffer.from(`{"id":1,"pad":"${'x'.repeat(100)}"}`)),
      /exceeds the 16-byte limit/,
    );
  });

  it('rejects an unknown field type at construction', () => {
    assert.throws(() => json({ a: 'float' as 'number' }), /unknown type "float"/);
  });
});

describe('json decoder with nested objects and arrays', () => {
  const order = json({
    id: 'integer',
    tags: 'string[]',
    customer: { name: 'string', vip: 'boolean?' },
    items: [{ sku: 'string', qty: 'integer', dims: 'number[]?' }],
    shipTo: optional({ city: 'string' }),
    matrix: [['number']],
  });
  const good = {
    id: 7,
    tags: ['a', 'b'],
    customer: { name: 'Ada' },
    items: [
      { sku: 'x1', qty: 2, dims: [1.5, 2] },
      { sku: 'x2', qty: 1 },
    ],
    matrix: [[1, 2], []],
  };

  it('decodes nested records, typed', () => {
    const v = order.decode(Buffer.from(JSON.stringify(good)));
    assert.deepEqual(v, good);
    // Compile-time: the nested fields are typed (these lines fail `tsc` if they are not).
    const qty: number = v.items[0]!.qty;
    const city: string | undefined = v.shipTo?.city;
    const name: string = v.customer.name;
    const cell: number | undefined = v.matrix[0]![1];
    assert.deepEqual([qty, city, name, cell], [2, undefined, 'Ada', 2]);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'a mistyped array element',
      { ...good, tags: ['a', 3] },
      /field "tags\[1\]": expected string, got number 3/,
    ],
    ['a missing nested field', { ...good, customer: {} }, /field "customer.name" is missing/],
    [
      'a nested object that is an array',
      { ...good, customer: [] },
      /field "customer": expected object, got array/,
    ],
    [
      'a bad field of an object in an array',
      { ...good, items: [good.items[0], { sku: 'x', qty: 'two' }] },
      /field "items\[1\].qty": expected integer, got string "two"/,
    ],
    [
      'a bad element of an optional nested array',
      { ...good, items: [{ sku: 'x', qty: 1, dims: [1, null] }] },
      /field "items\[0\].dims\[1\]": expected number, got null/,
    ],
    [
      'an optional nested object of the wrong shape',
      { ...good, shipTo: { town: 'X' } },
      /field "shipTo.city" is missing/,
    ],
    [
      'an array of arrays with a bad cell',
      { ...good, matrix: [[1], [2, 'x']] },
      /field "matrix\[1\]\[1\]": expected number/,
    ],
    ['a missing required array', { id: 1, customer: { name: 'A' } }, /field "tags" is missing/],
  ];
  for (const [name, value, re] of bad) {
    it(`rejects ${name} with a DecodeError naming the path`, () => {
      assert.throws(
        () => order.decode(Buffer.from(JSON.stringify(value))),
        (e: unknown) => e instanceof DecodeError && re.test(e.message),
      );
    });
  }

  it('rejects bad nested specs at construction', () => {
    assert.throws(() => json({ a: { b: 'float' as 'number' } }), /field "a.b": unknown type "float"/);
    assert.throws(
      () => json({ a: ['string', 'number'] as unknown as ['string'] }),
      /exactly one element spec/,
    );
    assert.throws(() => json({ a: 'date[]' as 'string[]' }), /field "a": unknown type "date\[\]"/);
  });

  it('routes a bad nested record to the dead letters and keeps the good ones', async () => {
    const out = collect<number>();
    const dead = new MemoryDeadLetters();
    await pipeline('nested')
      .from(fromArray([JSON.stringify(good), JSON.stringify({ ...good, items: [{ sku: 1, qty: 1 }] })]))
      .decode(order)
      .map((o) => o.items.length)
      .to(out)
      .run({ deadLetters: dead }).done;
    assert.deepEqual(out.values, [2]);
    assert.deepEqual(
      dead.items.map((d) => d.reason),
      ['field "items[0].sku": expected string, got number 1'],
    );
  });
});
