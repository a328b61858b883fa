import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { signWebhook, verifyWebhook, webhookSink, type ActionEntry } from '../../src/actions/index.js';

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

describe('webhookSink', () => {
  it('POSTs each action with Idempotency-Key and a verifiable HMAC signature', async (t) => {
    const seen: { key: string; body: string; ok: boolean; auth?: string }[] = [];
    const url = await receiver(t, (req, body, res) => {
      seen.push({
        key: String(req.headers['idempotency-key']),
        body,
        ok: verifyWebhook('s3', req.headers['sluice-signature'], body),
        auth: req.headers.authorization,
      });
      res.writeHead(200).end();
    });
    const sink = webhookSink({ url: url.replace('http://', 'http://u:p%40ss@'), secret: 's3' });
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
    assert.equal(verifyWebhook('other', signWebhook('s3', 'x'), 'x'), false);
    assert.equal(verifyWebhook('s3', signWebhook('s3', 'x', Date.now() - 3_600_000), 'x'), false, 'too old');
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
    const sink = webhookSink({
      url,
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
    const r = await webhookSink({ url, backoff: fast }).deliver([entry(1)]);
    assert.equal(calls, 1);
    assert.equal(r.rejected.length, 1);
    assert.match(r.rejected[0]!.reason, /HTTP 422 .*amount missing/);
  });

  it('gives up after its retries with a retryable SLUICE_ACTION_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r)); // a port nobody listens on
    const sink = webhookSink({
      url: `http://127.0.0.1:${port}/hook`,
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
    assert.throws(() => webhookSink({ url: 'ftp://x/y' }), /not http: or https:/);
    assert.throws(() => webhookSink({ url: 'not a url' }), { code: 'SLUICE_SINK_URL' });
    assert.throws(
      () => webhookSink({ url: 'http://x/', requireSecret: true, secretEnv: 'NO_SUCH_VAR_SET' }),
      { code: 'SLUICE_SINK_SECRET', message: /set NO_SUCH_VAR_SET/ },
    );
  });
});
