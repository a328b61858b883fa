// Each API's request and response at its lowest and highest advertised version (and at the
// switch to the flexible encoding where that differs), against bytes derived by hand from
// Kafka's JSON message specs (clients/src/main/resources/common/message/*.json).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_APIS } from '../../src/broker/apis/registry.js';
import { Reader } from '../../src/broker/protocol/reader.js';
import { Writer } from '../../src/broker/protocol/writer.js';
import { u } from './fixtures/bytes.js';
import { ADMIN_FIXTURES } from './fixtures/admin.js';
import { ADMIN_OPS_FIXTURES } from './fixtures/admin-ops.js';
import { DATA_FIXTURES } from './fixtures/data.js';
import { GROUPS_FIXTURES } from './fixtures/groups.js';
import { METADATA_FIXTURES } from './fixtures/metadata.js';
import { OFFSETS_FIXTURES } from './fixtures/offsets.js';
import { TXN_FIXTURES } from './fixtures/txn.js';
import type { Fixture } from './fixtures/types.js';

const fixtures: Fixture[] = [
  ...METADATA_FIXTURES,
  ...DATA_FIXTURES,
  ...GROUPS_FIXTURES,
  ...OFFSETS_FIXTURES,
  ...ADMIN_FIXTURES,
  ...ADMIN_OPS_FIXTURES,
  ...TXN_FIXTURES,
];

function assertSubset(actual: unknown, expected: unknown, path: string): void {
  if (Buffer.isBuffer(expected) || expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, path);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
    expected.forEach((e, i) => assertSubset(actual[i], e, `${path}[${i}]`));
    return;
  }
  for (const [k, v] of Object.entries(expected))
    assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
}

test('request and response bytes match fixtures derived from the Kafka message specs', () => {
  const covered = new Set<string>();
  for (const [key, version, dir, value, bytes] of fixtures) {
    const api = ALL_APIS.find((a) => a.key === key)!;
    const schema = dir === 'req' ? api.request : api.response;
    const where = `${api.name} v${version} ${dir}`;
    const r = new Reader(bytes);
    const decoded = schema.decode(r, version);
    assert.equal(r.remaining, 0, `${where}: decoding consumes the fixture exactly`);
    assertSubset(decoded, value, where);
    const w = new Writer();
    schema.encode(w, version, dir === 'req' ? decoded : value);
    assert.deepEqual(w.toBuffer(), bytes, `${where}: encoding gives the fixture's bytes`);
    covered.add(
      `${key}/${dir}/${version === api.minVersion ? 'min' : version === api.maxVersion ? 'max' : 'mid'}`,
    );
  }
  for (const api of ALL_APIS) {
    assert.ok(
      covered.has(`${api.key}/req/min`) || covered.has(`${api.key}/req/max`),
      `${api.name} has request fixtures`,
    );
    assert.ok(
      covered.has(`${api.key}/res/min`) || covered.has(`${api.key}/res/max`),
      `${api.name} has response fixtures`,
    );
  }
  assert.deepEqual(u(300), Buffer.from([0xac, 0x02])); // the builders themselves: unsigned varint
});
