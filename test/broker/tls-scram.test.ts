// A broker that can face a network: TLS on the listener and SASL/SCRAM-SHA-256/512 beside
// PLAIN. The SCRAM arithmetic is checked against RFC 7677's example exchange; the rest with
// independent clients: kcat (librdkafka, SaslAuthenticate) and kafka-python (bare SASL frames
// after SaslHandshake v0) over SASL_SSL, the `sluice broker` CLI with --tls-cert/--tls-key and
// --users-file, and Sluice's own Kafka source and sink (@platformatic/kafka) through kafkas:// URLs.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ScramCredentials, ScramExchange } from '../../src/broker/scram.js';
import { action, actionSinkFromUrl } from '../../src/actions/index.js';
import { sourceFromUrl } from '../../src/connectors/index.js';
import { parseKafkaUrl } from '../../src/kafka-client/index.js';
import { fromArray, pipeline, type Envelope, type Sink } from '../../src/stream/index.js';
import { commandExists, needService } from '../helpers/services.js';
import { defer, eventually, tempDir, testBroker } from './helpers.js';
import { PYTHON, pythonHas, run } from './processes.js';
import { recordCells } from './interop-results.js';

const USERS = { alice: 'wonder-land', bob: 'b:with:colons' };
const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const noOpenssl = await needService('openssl', () => commandExists('openssl', ['version']));
const noKafkaPython = await needService('python3 with kafka-python', () => pythonHas('kafka'));
const here = new URL('./clients/', import.meta.url).pathname;
const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;

/** A self-signed certificate for 127.0.0.1 / localhost, made with openssl in a temp dir. */
async function certificate(t: TestContext): Promise<{ cert: string; key: string; dir: string }> {
  const dir = tempDir(t, 'sluice-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  assert.equal(made.code, 0, made.stderr);
  return { cert, key, dir };
}

test("SCRAM-SHA-256 answers RFC 7677's example exchange, and refuses what deviates from it", () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const creds = new ScramCredentials({ user: 'pencil' }, () => salt);
  const serverNonce = () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const clientFinal =
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';

  const good = new ScramExchange('SCRAM-SHA-256', creds, serverNonce);
  const first = good.first(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.ok(first.ok);
  assert.equal(
    first.reply.toString(),
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  );
  const final = good.final(Buffer.from(clientFinal));
  assert.ok(final.ok);
  assert.equal(final.reply.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  assert.equal(final.user, 'user');
  assert.equal(good.final(Buffer.from(clientFinal)).ok, false, 'an exchange ends after its final message');

  // One flipped bit of the proof, another user's name, or a proof replayed under a new server
  // nonce: all refused.
  const flipped = new ScramExchange('SCRAM-SHA-256', creds, serverNonce);
  flipped.first(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.equal(flipped.final(Buffer.from(clientFinal.replace('p=dHzb', 'p=eHzb'))).ok, false);
  const replay = new ScramExchange('SCRAM-SHA-256', creds);
  replay.first(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.equal(replay.final(Buffer.from(clientFinal)).ok, false, 'a fresh server nonce defeats replay');
  const stranger = new ScramExchange('SCRAM-SHA-256', creds, serverNonce);
  const decoy = stranger.first(Buffer.from('n,,n=mallory,r=rOprNGfwEbeRWgbNEkqO'));
  assert.ok(decoy.ok, 'an unknown user gets a salt too (user names are not disclosed)');
  assert.equal(stranger.final(Buffer.from(clientFinal)).ok, false);
  for (const bad of ['', 'p=tls-unique,,n=user,r=x', 'n,,r=x', 'n,,n=us=er,r=x', 'n,a=bob,n=alice,r=x']) {
    assert.equal(new ScramExchange('SCRAM-SHA-512', creds).first(Buffer.from(bad)).ok, false, bad);
  }
});

test('kafka URLs: TLS, SASL and the password rule', () => {
  const env = { SLUICE_KAFKA_PASSWORD: 'pw' };
  const secured = parseKafkaUrl('kafkas://alice@h1,h2:9999/tx?sasl=scram-sha-512&group=g', env);
  assert.deepEqual(secured.brokers, ['h1:9093', 'h2:9999']);
  assert.equal(secured.topic, 'tx');
  assert.equal(secured.query.get('group'), 'g');
  assert.deepEqual(secured.security, {
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'pw' },
    tls: true,
  });
  assert.deepEqual(parseKafkaUrl('kafka://h/t', {}), {
    brokers: ['h:9092'],
    topic: 't',
    query: new URLSearchParams(),
    security: {},
  });
  const fromEnv = parseKafkaUrl('kafka://h:1/t', {
    SLUICE_KAFKA_USER: 'bob',
    SLUICE_KAFKA_PASSWORD: 'x',
    SLUICE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
    SLUICE_KAFKA_TLS: '1',
  });
  assert.deepEqual(fromEnv.security, {
    sasl: { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'x' },
    tls: true,
  });
  const refuses = (url: string, pattern: RegExp, e: NodeJS.ProcessEnv = env) =>
    assert.throws(
      () => parseKafkaUrl(url, e),
      (err: Error & { code: string }) =>
        err.code === 'SLUICE_KAFKA_URL' && pattern.test(err.message) && !err.message.includes('s3cret'),
    );
  refuses('kafkas://alice:s3cret@h:9093/t', /SLUICE_KAFKA_PASSWORD/);
  refuses('kafkas://alice@h:9093/t', /SLUICE_KAFKA_PASSWORD/, {});
  refuses('kafkas://alice@h:9093/t?sasl=gssapi', /SCRAM-SHA-256/);
  refuses('kafka://h:9092', /not a Kafka URL/);
  refuses('kafka://h:9092/t?ca=/x.pem', /kafkas/);
});

test(
  'kcat over SASL_SSL: SCRAM-SHA-256 and -512 produce and consume, a wrong password and plain TCP are refused',
  { skip: noKcat || noOpenssl, timeout: 120_000 },
  async (t) => {
    const { cert, key } = await certificate(t);
    const { readFileSync } = await import('node:fs');
    const broker = await testBroker(t, {
      sasl: { users: USERS },
      tls: { cert: readFileSync(cert), key: readFileSync(key) },
    });
    const opts = (mechanism: string, user: string, password: string) =>
      [
        'security.protocol=SASL_SSL',
        `ssl.ca.location=${cert}`,
        `sasl.mechanisms=${mechanism}`,
        `sasl.username=${user}`,
        `sasl.password=${password}`,
      ].flatMap((x) => ['-X', x]);
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const topic = `sec-${mechanism.slice(-3)}`;
      const wrong = await run(
        'kcat',
        ['-b', broker.address, '-L', '-m', '3', ...opts(mechanism, 'alice', 'nope')],
        {
          timeoutMs: 30_000,
        },
      );
      assert.notEqual(wrong.code, 0, `${mechanism}: metadata refused with a wrong password`);
      const put = await run(
        'kcat',
        ['-b', broker.address, '-P', '-t', topic, ...opts(mechanism, 'bob', USERS.bob)],
        {
          input: 'one\ntwo\n',
          timeoutMs: 30_000,
        },
      );
      assert.equal(put.code, 0, put.stderr);
      const read = await run(
        'kcat',
        ['-b', broker.address, '-C', '-t', topic, '-e', '-q', ...opts(mechanism, 'alice', USERS.alice)],
        { timeoutMs: 30_000 },
      );
      assert.deepEqual(read.stdout.trim().split('\n'), ['one', 'two'], `${mechanism}: ${read.stderr}`);
    }
    const plain = await run('kcat', ['-b', broker.address, '-L', '-m', '3'], { timeoutMs: 30_000 });
    assert.notEqual(plain.code, 0, 'a plain-TCP client gets nothing from the TLS port');
    const warnings = broker.warnings.join('\n');
    assert.match(warnings, /SCRAM-SHA-256 authentication failed/);
    assert.ok(!warnings.includes(USERS.alice) && !warnings.includes('nope'), 'no secrets in warnings');
    recordCells('test/broker/tls-scram.test.ts', [
      {
        client: 'kcat',
        feature: 'tls-scram',
        status: 'pass',
        detail: 'SASL_SSL with SCRAM-SHA-256 and -512; a wrong password refused',
      },
    ]);
  },
);

test(
  'kafka-python: SCRAM-SHA-512 over TLS with bare SASL frames (SaslHandshake v0)',
  { skip: noKafkaPython || noOpenssl, timeout: 120_000 },
  async (t) => {
    const { cert, key } = await certificate(t);
    const { readFileSync } = await import('node:fs');
    const broker = await testBroker(t, {
      sasl: { users: USERS },
      tls: { cert: readFileSync(cert), key: readFileSync(key) },
    });
    const args = (password: string, timeout: string) => [
      `${here}sasl_kafka_python.py`,
      broker.address,
      'alice',
      password,
      timeout,
      'SCRAM-SHA-512',
      cert,
    ];
    const good = await run(PYTHON, args(USERS.alice, '30000'), { timeoutMs: 60_000 });
    assert.equal(good.stdout.trim(), 'ok', good.stderr);
    const bad = await run(PYTHON, args('nope', '5000'), { timeoutMs: 60_000 });
    assert.match(bad.stdout, /^failed/);
    assert.equal(broker.log.partition('secured', 0).highWatermark, 1);
    recordCells('test/broker/tls-scram.test.ts', [
      {
        client: 'kafka-python',
        feature: 'tls-scram',
        status: 'pass',
        detail: 'SCRAM-SHA-512 over TLS (SaslHandshake v0, bare frames); a wrong password refused',
      },
    ]);
  },
);

function capture(): Sink<Buffer | null> & { values: string[] } {
  const values: string[] = [];
  return {
    name: 'capture',
    values,
    write(records: Envelope<Buffer | null>[]) {
      for (const r of records) values.push(r.value?.toString() ?? '');
    },
  };
}

test(
  'sluice broker --tls-cert --tls-key --users-file; kafkas:// URLs: the Kafka sink writes and kafkaSource reads over TLS + SCRAM',
  { skip: noOpenssl, timeout: 120_000 },
  async (t) => {
    const { cert, key, dir } = await certificate(t);
    const usersFile = join(dir, 'users');
    writeFileSync(usersFile, `# users of the test\nalice:${USERS.alice}\n`);
    const child = spawn(
      process.execPath,
      [
        bin,
        'broker',
        '--port',
        '0',
        '--data',
        join(dir, 'data'),
        '--tls-cert',
        cert,
        '--tls-key',
        key,
        '--users-file',
        usersFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_BROKER_USERS: '' } },
    );
    defer(t, () => child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => l.includes('listening on') && resolve(l));
      child.on('exit', (code) => reject(new Error(`broker exited with ${code}`)));
    });
    assert.match(line, /TLS, SASL PLAIN\/SCRAM-SHA-256\/SCRAM-SHA-512 for 1 user/);
    const port = Number(/:(\d+) /.exec(line)![1]);

    const saved = process.env.SLUICE_KAFKA_PASSWORD;
    process.env.SLUICE_KAFKA_PASSWORD = USERS.alice;
    defer(t, () =>
      saved === undefined
        ? delete process.env.SLUICE_KAFKA_PASSWORD
        : (process.env.SLUICE_KAFKA_PASSWORD = saved),
    );
    const url = `kafkas://alice@127.0.0.1:${port}/alerts?sasl=scram-sha-256&ca=${cert}`;
    const write = pipeline('alerts')
      .from(fromArray([{ id: 'a' }, { id: 'b' }, { id: 'c' }], { topic: 'tx' }))
      .to(action({ name: 'alert', payload: (r) => r, to: actionSinkFromUrl(url) }))
      .run();
    assert.equal((await write.done).counters.actions, 3);

    const out = capture();
    const run = pipeline('read')
      .from(
        sourceFromUrl(url.replace('alerts?', 'alerts?group=readers&'), {
          endWhen: () => out.values.length >= 3,
        }),
      )
      .to(out)
      .run({ checkpointIntervalMs: 100 });
    await run.done;
    assert.deepEqual(out.values.sort(), ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']);
    recordCells('test/broker/tls-scram.test.ts', [
      {
        client: '@platformatic/kafka',
        feature: 'tls-scram',
        status: 'pass',
        detail: "SCRAM-SHA-256 over TLS, through Sluice's Kafka sink and kafkaSource (kafkas:// URLs)",
      },
    ]);
  },
);

test(
  'KafkaJS: SCRAM-SHA-512 over TLS produces and consumes; a wrong password is refused',
  { skip: noOpenssl, timeout: 120_000 },
  async (t) => {
    const { cert, key } = await certificate(t);
    const { readFileSync } = await import('node:fs');
    const broker = await testBroker(t, {
      sasl: { users: USERS },
      tls: { cert: readFileSync(cert), key: readFileSync(key) },
    });
    const kafka = (password: string) =>
      new Kafka({
        clientId: 'kafkajs-scram',
        brokers: [broker.address],
        ssl: { ca: [readFileSync(cert, 'utf8')] },
        sasl: { mechanism: 'scram-sha-512', username: 'alice', password },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
    const producer = kafka(USERS.alice).producer();
    await producer.connect();
    await producer.send({ topic: 'kjs-secured', messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }] });
    await producer.disconnect();
    const consumer = kafka(USERS.alice).consumer({ groupId: 'kjs-secured' });
    await consumer.connect();
    const got: string[] = [];
    try {
      await consumer.subscribe({ topic: 'kjs-secured', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push(`${message.key} ${message.value} ${message.headers?.h}`);
        },
      });
      await eventually('the record read back', () => got.length > 0, 30_000);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(got, ['k v x']);
    const wrong = kafka('nope').producer();
    await assert.rejects(wrong.connect(), /SASL SCRAM SHA512 authentication failed|authentication/i);
    recordCells('test/broker/tls-scram.test.ts', [
      {
        client: 'KafkaJS',
        feature: 'tls-scram',
        status: 'pass',
        detail: 'SCRAM-SHA-512 over TLS: produce and group consume; a wrong password refused',
      },
    ]);
  },
);
