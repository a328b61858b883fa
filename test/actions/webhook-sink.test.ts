import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { signWebhook, verifyWebhook, webhookActionSink, type ActionEntry } from '../../src/actions/index.js';
import { redactUrls } from '../../src/core/redact.js';

const entry = (i: number): ActionEntry => ({
  key: `p/hook/t-0@${i}`,
  action: 'hook',
  payload: { i },
  time: 0,
  recordKey: undefined,
  eventTime: 1000 + i,
});

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function receiver(t: TestContext, handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const fast = { retries: 3, initialDelayMs: 5, maxDelayMs: 20 };

describe('webhookActionSink', () => {
  it('POSTs each action with Idempotency-Key and a verifiable HMAC signature', async (t) => {
    const seen: { key: string; body: string; ok: boolean; auth?: string }[] = [];
    const url = await receiver(t, (req, body, res) => {
      seen.push({
        key: String(req.headers['idempotency-key']),
        body,
        ok: verifyWebhook('s3', req.headers, body),
        auth: req.headers.authorization,
      });
      res.writeHead(200).end();
    });
    const sink = webhookActionSink({ url: url.replace('http://', 'http://u:p%40ss@'), secret: 's3' });
    const r = await sink.deliver([entry(1), entry(2)]);
    assert.deepEqual(r, { done: 2, duplicates: 0, rejected: [] });
    assert.deepEqual(seen.map((s) => s.key).sort(), ['p/hook/t-0@1', 'p/hook/t-0@2']);
    for (const s of seen) {
      assert.equal(s.ok, true);
      assert.equal(s.auth, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
      assert.deepEqual(Object.keys(JSON.parse(s.body)), [
        'idempotency_key',
        'action',
        'payload',
        'event_time',
      ]);
    }
    assert.equal(verifyWebhook('other', signWebhook('s3', 'x', 'k'), 'x', { idempotencyKey: 'k' }), false);
  });

  it('signs the Idempotency-Key with the body; verifyWebhook refuses an empty secret, old and replayed-late requests', () => {
    const now = Date.now();
    const sig = signWebhook('s3', '{"a":1}', 'p/a/t-0@1', now);
    const headers = { 'sluice-signature': sig, 'idempotency-key': 'p/a/t-0@1' };
    assert.equal(verifyWebhook('s3', headers, '{"a":1}', { now }), true);
    assert.equal(verifyWebhook('s3', sig, '{"a":1}', { idempotencyKey: 'p/a/t-0@1', now }), true);
    // A captured request with another key (to get past the receiver's dedup) fails.
    assert.equal(
      verifyWebhook('s3', { ...headers, 'idempotency-key': 'p/a/t-0@2' }, '{"a":1}', { now }),
      false,
    );
    assert.equal(
      verifyWebhook('s3', { 'sluice-signature': sig }, '{"a":1}', { now }),
      false,
      'no key: not verified',
    );
    assert.equal(verifyWebhook('s3', headers, '{"a":2}', { now }), false);
    // The default tolerance is 60 s: a copy sent 61 s later is refused, one within it is deduped by its key.
    assert.equal(verifyWebhook('s3', headers, '{"a":1}', { now: now + 59_000 }), true);
    assert.equal(verifyWebhook('s3', headers, '{"a":1}', { now: now + 61_000 }), false);
    assert.equal(verifyWebhook('s3', headers, '{"a":1}', { now: now + 61_000, toleranceMs: 120_000 }), true);
    assert.throws(() => verifyWebhook('', headers, '{"a":1}'), {
      code: 'SLUICE_SINK_SECRET',
      message: /secret is empty/,
    });
    assert.throws(() => signWebhook('', 'x', 'k'), { code: 'SLUICE_SINK_SECRET' });
  });

  it('refuses to start without a secret unless told "unsigned" (option or SLUICE_WEBHOOK_SECRET=unsigned), and says so', async (t) => {
    let signature: string | string[] | undefined = 'none';
    const url = await receiver(t, (req, _body, res) => {
      signature = req.headers['sluice-signature'];
      res.writeHead(200).end();
    });
    assert.throws(() => webhookActionSink({ url, secretEnv: 'NO_SUCH_VAR_SET' }), {
      code: 'SLUICE_SINK_SECRET',
      message: /set NO_SUCH_VAR_SET to the receiver's signing secret \(or to "unsigned"/,
    });
    assert.throws(() => webhookActionSink({ url, secret: '', secretEnv: 'NO_SUCH_VAR_SET' }), {
      code: 'SLUICE_SINK_SECRET',
    });
    const warnings: string[] = [];
    process.env.SLUICE_TEST_HOOK_SECRET = 'unsigned';
    t.after(() => delete process.env.SLUICE_TEST_HOOK_SECRET);
    const sink = webhookActionSink({
      url,
      secretEnv: 'SLUICE_TEST_HOOK_SECRET',
      onWarning: (m) => warnings.push(m),
    });
    assert.match(warnings[0]!, /requests go out unsigned \(SLUICE_TEST_HOOK_SECRET=unsigned\)/);
    assert.deepEqual(await sink.deliver([entry(1)]), { done: 1, duplicates: 0, rejected: [] });
    assert.equal(signature, undefined);
    webhookActionSink({ url, unsigned: true, onWarning: (m) => warnings.push(m) });
    assert.match(warnings[1]!, /unsigned \(unsigned: true\)/);
  });

  it('never puts the password of a URL into a message', () => {
    const pw = 'Pa55-w0rd';
    for (const bad of [`http://u:${pw}@x y/`, `http://u:${pw}@[bad/`, `https://u:p/${pw}@h/`]) {
      assert.throws(
        () => webhookActionSink({ url: bad, secret: 's' }),
        (e: Error) => !e.message.includes(pw),
      );
    }
    assert.equal(
      redactUrls(`at nats://u:${pw}@h:4222 and kafka://a:b@c/t`),
      'at nats://***@h:4222 and kafka://***@c/t',
    );
    assert.equal(
      redactUrls(`postgres://u:p@ss/w@rd@h/db`),
      'postgres://***@h/db',
      'a password with @ and / is cut whole',
    );
  });

  it('retries 5xx and timeouts with backoff, counts "Idempotent-Replayed" as a duplicate', async (t) => {
    let calls = 0;
    const url = await receiver(t, (_req, _body, res) => {
      calls++;
      if (calls === 1) return void res.writeHead(503).end('busy');
      if (calls === 2) return; // no answer: the sink times out and retries
      res.writeHead(200, calls === 3 ? {} : { 'idempotent-replayed': 'true' }).end();
    });
    const warnings: string[] = [];
    const sink = webhookActionSink({
      url,
      secret: 's3',
      timeoutMs: 200,
      backoff: fast,
      concurrency: 1,
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(await sink.deliver([entry(1), entry(2)]), { done: 1, duplicates: 1, rejected: [] });
    assert.equal(calls, 4);
    assert.match(warnings[0]!, /HTTP 503 .* retry 1\/3/);
    assert.match(warnings[1]!, /no answer .* within 200 ms/);
  });

  it('does not retry a 4xx: the action is rejected with the status and the answer', async (t) => {
    let calls = 0;
    const url = await receiver(t, (_req, _body, res) => {
      calls++;
      res.writeHead(422).end('{"error":"amount missing"}');
    });
    const r = await webhookActionSink({ url, secret: 's3', backoff: fast }).deliver([entry(1)]);
    assert.equal(calls, 1);
    assert.equal(r.rejected.length, 1);
    assert.match(r.rejected[0]!.reason, /HTTP 422 .*amount missing/);
  });

  it('gives up after its retries with a retryable SLUICE_ACTION_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r)); // a port nobody listens on
    const sink = webhookActionSink({
      url: `http://127.0.0.1:${port}/hook`,
      secret: 's3',
      backoff: { retries: 1, initialDelayMs: 5 },
    });
    await assert.rejects(sink.deliver([entry(1)]), (e: Error & { code?: string; retryable?: boolean }) => {
      assert.equal(e.code, 'SLUICE_ACTION_UNAVAILABLE');
      assert.equal(e.retryable, true);
      assert.match(e.message, /failed 2 times .*ECONNREFUSED/);
      return true;
    });
  });

  it('validates its options once, with messages that say what to fix', () => {
    assert.throws(() => webhookActionSink({ url: 'ftp://x/y', secret: 's' }), /not http: or https:/);
    assert.throws(() => webhookActionSink({ url: 'not a url', secret: 's' }), { code: 'SLUICE_SINK_URL' });
  });
});
