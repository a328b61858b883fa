// The broker's embedded Schema Registry, driven by Confluent's JavaScript registry client (an
// independent implementation of the REST API's client side) and by plain HTTP for the error
// bodies: registration and ids, lookups, versions, compatibility levels, config, soft deletes,
// persistence across a restart, HTTP Basic auth with broker users, bounded bodies.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { REGISTRY_FILE, startBroker } from '../../src/broker/index.js';
import { tempDir, testBroker } from './helpers.js';

const V1 = {
  type: 'record',
  name: 'Transaction',
  namespace: 'fraud',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'double' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
/** A new required field without a default: new readers cannot read old records (not BACKWARD). */
const NO_DEFAULT = { ...V1, fields: [...V1.fields, { name: 'merchant', type: 'string' }] };

const avro = (s: object) => ({ schemaType: 'AVRO', schema: JSON.stringify(s) });

async function http(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, type: res.headers.get('content-type'), json: json as Record<string, unknown> };
}

test(
  'the embedded registry serves the REST API the Confluent client uses',
  { timeout: 60_000 },
  async (t) => {
    const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
    const url = broker.schemaRegistry!.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new SchemaRegistryClient({ baseURLs: [url] });

    const id1 = await client.register('tx-value', avro(V1));
    assert.equal(await client.register('tx-value', avro(V1)), id1, 'same schema, same id');
    const id2 = await client.register('tx-value', avro(V2));
    assert.notEqual(id2, id1);
    // The same schema under another subject keeps its id.
    assert.equal(await client.register('other-value', avro(V2)), id2);
    assert.deepEqual((await client.getAllSubjects()).sort(), ['other-value', 'tx-value']);
    assert.deepEqual(await client.getAllVersions('tx-value'), [1, 2]);
    const latest = await client.getLatestSchemaMetadata('tx-value');
    assert.deepEqual([latest.id, latest.version], [id2, 2]);
    assert.deepEqual(JSON.parse((await client.getBySubjectAndId('tx-value', id1)).schema), V1);
    assert.equal((await client.getSchemaMetadata('tx-value', 1)).id, id1);
    assert.equal(await client.getVersion('tx-value', avro(V1)), 1, 'lookup by schema');
    assert.equal(await client.getId('tx-value', avro(V2)), id2);

    // BACKWARD by default: a new field without a default cannot be read from old records.
    assert.equal(await client.testSubjectCompatibility('tx-value', avro(NO_DEFAULT)), false);
    assert.equal(await client.testCompatibility('tx-value', 1, avro(V2)), true);
    const refused = await http(`${url}/subjects/tx-value/versions`, 'POST', avro(NO_DEFAULT));
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error_code, 409);
    assert.match(String(refused.json.message), /incompatible.*BACKWARD/);
    assert.equal(refused.type, 'application/vnd.schemaregistry.v1+json');

    // FORWARD: old readers must read new records; dropping a field without a default breaks them.
    assert.equal(await client.getDefaultCompatibility(), 'BACKWARD');
    await client.updateCompatibility('tx-value', 'FORWARD' as never);
    assert.equal(await client.getCompatibility('tx-value'), 'FORWARD');
    assert.equal(
      await client.testSubjectCompatibility('tx-value', avro(NO_DEFAULT)),
      true,
      'old readers ignore the new field',
    );
    assert.equal(
      await client.testSubjectCompatibility('tx-value', avro({ ...V1, fields: [V1.fields[0]] })),
      false,
    );
    await client.updateCompatibility('tx-value', 'FULL' as never);
    assert.equal(await client.testSubjectCompatibility('tx-value', avro(NO_DEFAULT)), false);
    await client.updateCompatibility('tx-value', 'NONE' as never);
    assert.equal(
      await client.testSubjectCompatibility('tx-value', { schemaType: 'AVRO', schema: '"string"' }),
      true,
    );

    // Error bodies with the registry's codes.
    const codes = async (path: string, method = 'GET', body?: unknown) => {
      const r = await http(url + path, method, body);
      return [r.status, r.json.error_code];
    };
    assert.deepEqual(await codes('/subjects/nope/versions'), [404, 40401]);
    assert.deepEqual(await codes('/subjects/tx-value/versions/9'), [404, 40402]);
    assert.deepEqual(await codes('/subjects/tx-value/versions/x'), [422, 42202]);
    assert.deepEqual(await codes('/schemas/ids/999'), [404, 40403]);
    assert.deepEqual(await codes('/subjects/tx-value', 'POST', avro({ ...V1, name: 'Other' })), [404, 40403]);
    assert.deepEqual(
      await codes('/subjects/bad-value/versions', 'POST', { schema: '{"type":"nope"}' }),
      [422, 42201],
    );
    assert.deepEqual(await codes('/config', 'PUT', { compatibility: 'SIDEWAYS' }), [422, 42203]);
    assert.deepEqual(await codes('/config/other-value'), [404, 40408]);
    assert.equal((await http(`${url}/schemas/ids/${id1}/schema`)).json.name, 'Transaction');
    assert.deepEqual((await http(`${url}/schemas/types`)).json, ['AVRO', 'PROTOBUF', 'JSON']);

    // Soft delete hides the subject; ids stay readable; permanent delete needs a soft one first.
    assert.deepEqual(await codes('/subjects/other-value?permanent=true', 'DELETE'), [404, 40405]);
    assert.deepEqual(await client.deleteSubject('other-value'), [1]);
    assert.deepEqual(await client.getAllSubjects(), ['tx-value']);
    assert.deepEqual((await http(`${url}/subjects?deleted=true`)).json, ['tx-value', 'other-value']);
    assert.equal((await http(`${url}/schemas/ids/${id2}`)).status, 200);

    // Bounded bodies.
    const big = await http(`${url}/subjects/big-value/versions`, 'POST', 'x'.repeat(2 << 20));
    assert.equal(big.status, 413);
  },
);

test('registrations survive a restart, and ids continue', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t);
  const start = () =>
    startBroker({ port: 0, dataDir, fsync: 'never', schemaRegistry: { port: 0 }, onWarning: () => {} });
  let broker = await start();
  let client = new SchemaRegistryClient({ baseURLs: [broker.schemaRegistry!.url] });
  const id1 = await client.register('tx-value', avro(V1));
  await client.updateCompatibility('tx-value', 'NONE' as never);
  await broker.close();
  broker = await start();
  t.after(() => broker.close());
  client = new SchemaRegistryClient({ baseURLs: [broker.schemaRegistry!.url] });
  assert.deepEqual(JSON.parse((await client.getBySubjectAndId('tx-value', id1)).schema), V1);
  assert.equal(await client.getCompatibility('tx-value'), 'NONE');
  assert.equal(await client.register('tx-value', avro(V1)), id1);
  const id2 = await client.register('tx-value', avro(NO_DEFAULT));
  assert.equal(id2, id1 + 1, 'no id reused');
});

test('with broker users, registry requests need HTTP Basic credentials', { timeout: 60_000 }, async (t) => {
  const broker = await testBroker(t, { schemaRegistry: { port: 0 }, sasl: { users: { alice: 's3cret' } } });
  const url = broker.schemaRegistry!.url;
  const anonymous = await http(`${url}/subjects/tx-value/versions`, 'POST', avro(V1));
  assert.equal(anonymous.status, 401);
  const wrong = await http(`${url}/subjects`, 'GET', undefined, {
    authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}`,
  });
  assert.equal(wrong.status, 401);
  const client = new SchemaRegistryClient({
    baseURLs: [url],
    basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: 'alice:s3cret' },
  });
  assert.equal(await client.register('tx-value', avro(V1)), 1);
});

test('JSON Schema and Protobuf compatibility: BACKWARD refuses a new required property and a changed field type', async (t) => {
  const broker = await testBroker(t, { schemaRegistry: { port: 0 } });
  const client = new SchemaRegistryClient({ baseURLs: [broker.schemaRegistry!.url] });
  const json = (s: object) => ({ schemaType: 'JSON', schema: JSON.stringify(s) });
  const base = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
  await client.register('j-value', json(base));
  const optional = { ...base, properties: { ...base.properties, note: { type: 'string' } } };
  assert.equal(
    await client.testSubjectCompatibility('j-value', json(optional)),
    true,
    'an optional property',
  );
  const widened = { ...base, properties: { id: { type: 'number' } } };
  assert.equal(await client.testSubjectCompatibility('j-value', json(widened)), true, 'integer -> number');
  const required = { ...optional, required: ['id', 'note'] };
  assert.equal(
    await client.testSubjectCompatibility('j-value', json(required)),
    false,
    'a new required property',
  );
  const narrowed = { ...base, properties: { id: { type: 'string' } } };
  assert.equal(await client.testSubjectCompatibility('j-value', json(narrowed)), false, 'integer -> string');

  const proto = (body: string) => ({
    schemaType: 'PROTOBUF',
    schema: `syntax = "proto3";\npackage t;\n${body}`,
  });
  await client.register('p-value', proto('message A { int64 id = 1; string name = 2; }'));
  const pb = (body: string) => client.testSubjectCompatibility('p-value', proto(body));
  assert.equal(await pb('message A { int64 id = 1; string name = 2; double x = 3; }'), true, 'a new field');
  assert.equal(await pb('message A { int32 id = 1; string label = 2; }'), true, 'same wire type, renamed');
  assert.equal(await pb('message A { string id = 1; string name = 2; }'), false, 'varint -> string');
  assert.equal(await pb('message B { int64 id = 1; }'), false, 'message removed');
  const bad = await http(
    `${broker.schemaRegistry!.url}/subjects/p-value/versions`,
    'POST',
    proto('message {'),
  );
  assert.deepEqual([bad.status, bad.json.error_code], [422, 42201]);
});

test('a torn last line of the registry file (a crash mid-write) is dropped; damage before it is refused', async (t) => {
  const dataDir = tempDir(t);
  const start = () =>
    startBroker({
      port: 0,
      dataDir,
      fsync: 'never',
      schemaRegistry: { port: 0 },
      onWarning: (m) => warnings.push(m),
    });
  const warnings: string[] = [];
  let broker = await start();
  const client = new SchemaRegistryClient({ baseURLs: [broker.schemaRegistry!.url] });
  await client.register('a-value', avro(V1));
  await client.register('b-value', avro(V2));
  await broker.close();
  const file = join(dataDir, REGISTRY_FILE);
  appendFileSync(file, '0badc0de {"t":"version","sub');
  broker = await start();
  const ok = await http(`${broker.schemaRegistry!.url}/subjects`);
  assert.deepEqual(ok.json, ['a-value', 'b-value']);
  assert.ok(warnings.some((w) => /torn last line/.test(w)));
  await broker.close();
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[0] = lines[0]!.replace('Transaction', 'Transactiox');
  writeFileSync(file, lines.join('\n'));
  await assert.rejects(start(), /line 1 is damaged/);
});

test('sluice broker serves the registry by default beside --port 0, and not with --schema-registry-port off', async (t) => {
  const root = new URL('../../', import.meta.url).pathname;
  const startCli = async (extra: string[]) => {
    const child = spawn(process.execPath, [
      join(root, 'bin/sluice.js'),
      'broker',
      '--port',
      '0',
      '--data',
      tempDir(t),
      ...extra,
    ]);
    t.after(() => child.kill('SIGTERM'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const started = Date.now();
    while (!/listening on/.test(out) && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    return out;
  };
  const out = await startCli([]);
  const url = /sluice schema registry at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  assert.ok(url, out);
  assert.deepEqual((await http(`${url}/subjects`)).json, []);
  assert.doesNotMatch(await startCli(['--schema-registry-port', 'off']), /schema registry/);
});
