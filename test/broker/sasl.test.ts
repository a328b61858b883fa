// SASL/PLAIN: before authentication only ApiVersions and the SASL APIs are served; bad
// credentials are refused and the connection closed; good ones open everything. Checked with
// the raw client (v1 handshake + SaslAuthenticate), kcat (librdkafka) and kafka-python
// (v0 handshake, bare token frames). Passwords never reach the broker's warnings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { saslUsersFromEnv } from '../../src/broker/index.js';
import { commandExists, needService } from '../helpers/services.js';
import { defer, RawClient, testBroker } from './helpers.js';
import { PYTHON, pythonHas, run } from './processes.js';

const USERS = { alice: 'wonder-land', bob: 'b:with:colons' };
const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const noKafkaPython = await needService('python3 with kafka-python', () => pythonHas('kafka'));
const here = new URL('./clients/', import.meta.url).pathname;

const token = (user: string, password: string) => Buffer.from(`\u0000${user}\u0000${password}`);

test('users come from SLUICE_BROKER_USERS', () => {
  assert.deepEqual(saslUsersFromEnv('alice:wonder-land,bob:b:with:colons'), USERS);
  assert.equal(saslUsersFromEnv(''), undefined);
  assert.throws(
    () => saslUsersFromEnv('alice'),
    (e: Error & { code: string }) =>
      e.code === 'SLUICE_BROKER_INVALID_OPTION' && !e.message.includes('alice'),
  );
});

test('raw protocol: refused before authentication, wrong password closes, right one opens', async (t) => {
  const broker = await testBroker(t, { sasl: { users: USERS } });
  const anon = await RawClient.connect(broker.port);
  const versions = await anon.send(18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  const keys = versions.apiKeys.map((k: { apiKey: number }) => k.apiKey);
  assert.ok(keys.includes(17) && keys.includes(36), 'SASL APIs are advertised');
  await assert.rejects(anon.send(3, 9, { topics: null, allowAutoTopicCreation: false }), /closed/);

  const wrong = await RawClient.connect(broker.port);
  const gssapi = await wrong.send(17, 1, { mechanism: 'GSSAPI' });
  assert.deepEqual([gssapi.errorCode, gssapi.mechanisms], [33, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']]);
  const wrong2 = await RawClient.connect(broker.port);
  assert.equal((await wrong2.send(17, 1, { mechanism: 'PLAIN' })).errorCode, 0);
  const denied = await wrong2.send(36, 2, { authBytes: token('alice', 'guess') });
  assert.equal(denied.errorCode, 58);
  assert.ok(await wrong2.waitClosed(5000), 'closed after a failed authentication');

  const ok = await RawClient.connect(broker.port);
  defer(t, () => (ok.close(), wrong.close()));
  assert.equal((await ok.send(17, 1, { mechanism: 'PLAIN' })).errorCode, 0);
  assert.equal((await ok.send(36, 1, { authBytes: token('bob', USERS.bob) })).errorCode, 0);
  const md = await ok.send(3, 9, { topics: [{ name: 'sec' }], allowAutoTopicCreation: true });
  assert.equal(md.topics[0].errorCode, 0);
  const warnings = broker.warnings.join('\n');
  assert.ok(
    !warnings.includes('guess') && !warnings.includes(USERS.alice) && !warnings.includes(USERS.bob),
    'no secrets in warnings',
  );
});

test(
  'kcat: no credentials fails, wrong password fails, right credentials work',
  { skip: noKcat, timeout: 90_000 },
  async (t) => {
    const broker = await testBroker(t, { sasl: { users: USERS } });
    const sasl = (user: string, password: string) => [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=PLAIN',
      '-X',
      `sasl.username=${user}`,
      '-X',
      `sasl.password=${password}`,
    ];
    const anon = await run('kcat', ['-b', broker.address, '-L', '-m', '3'], { timeoutMs: 30_000 });
    assert.notEqual(anon.code, 0, 'metadata refused without SASL');
    const bad = await run('kcat', ['-b', broker.address, '-L', '-m', '3', ...sasl('alice', 'nope')], {
      timeoutMs: 30_000,
    });
    assert.notEqual(bad.code, 0, 'metadata refused with a wrong password');
    const good = await run('kcat', ['-b', broker.address, '-P', '-t', 'sec', ...sasl('alice', USERS.alice)], {
      input: 'one\ntwo\n',
      timeoutMs: 30_000,
    });
    assert.equal(good.code, 0, good.stderr);
    const read = await run(
      'kcat',
      ['-b', broker.address, '-C', '-t', 'sec', '-e', '-q', ...sasl('alice', USERS.alice)],
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(read.stdout.trim().split('\n'), ['one', 'two']);
  },
);

test(
  'kafka-python: SaslHandshake v0 with a bare PLAIN token',
  { skip: noKafkaPython, timeout: 90_000 },
  async (t) => {
    const broker = await testBroker(t, { sasl: { users: USERS } });
    const good = await run(PYTHON, [`${here}sasl_kafka_python.py`, broker.address, 'alice', USERS.alice], {
      timeoutMs: 60_000,
    });
    assert.equal(good.stdout.trim(), 'ok', good.stderr);
    const bad = await run(PYTHON, [`${here}sasl_kafka_python.py`, broker.address, 'alice', 'nope', '5000'], {
      timeoutMs: 60_000,
    });
    assert.match(bad.stdout, /^failed/);
    assert.equal(broker.log.partition('secured', 0).highWatermark, 1);
  },
);
