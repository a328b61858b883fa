import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError, json } from '../../src/stream/index.js';

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
        (e: unknown) => e instanceof DecodeError && e.code === 'SLUICE_DECODE' && re.test(e.message),
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
