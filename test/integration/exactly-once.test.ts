// Exactly-once effects per sink: a pipeline process is killed with SIGKILL mid-stream several
// times and restarted; the sink then holds each action exactly once (Postgres rows, webhook
// Idempotency-Keys, records of an output topic).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { ACTION_HEADERS, verifyWebhook } from '../../src/actions/index.js';
import { startBroker } from '../../src/broker/index.js';
import { Log } from '../../src/log/index.js';
import { needService, portOpen } from '../helpers/services.js';
import { expectedIds, fillEvents, killAndFinish, tempDir, uniqueName } from './helpers.js';

const job = new URL('./fixtures/sink-job.ts', import.meta.url).pathname;
const N = 2000;
const KILLS = 3;
const keyOf = (id: number) => `eo/act/events-0@${id}`;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Asserts that `seen` (key -> payload id, as many entries as effects) is exactly the expected set. */
function assertExactlyOnce(keys: string[], what: string): void {
  const want = expectedIds(N).map(keyOf).sort();
  const dupes = keys.length - new Set(keys).size;
  assert.equal(dupes, 0, `${what}: ${dupes} duplicate effects`);
  assert.deepEqual([...keys].sort(), want, `${what}: every action exactly once`);
}

const noPostgres = await needService('postgres on 127.0.0.1:5432', () => portOpen(5432));

describe('exactly-once effects under kill -9', () => {
  it('Postgres: the table holds every action once', { timeout: 90_000, skip: noPostgres }, async (t) => {
    const dir = tempDir(t);
    fillEvents(dir, N);
    const table = uniqueName('sluice_eo');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    t.after(async () => {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    });
    const summary = await killAndFinish(job, [dir, `${PG_URL}?table=${table}`], KILLS);
    assert.equal(summary.resumed, true);
    const { rows } = await client.query<{ idempotency_key: string; payload: { id: number } }>(
      `SELECT idempotency_key, payload FROM ${table}`,
    );
    assertExactlyOnce(
      rows.map((r) => r.idempotency_key),
      'postgres',
    );
    for (const r of rows) assert.equal(r.idempotency_key, keyOf(r.payload.id));
  });

  it(
    'webhook: the receiver sees every Idempotency-Key, signed, and each action once in effect',
    { timeout: 90_000 },
    async (t) => {
      const dir = tempDir(t);
      fillEvents(dir, N);
      const secret = 'test-secret';
      const effects = new Map<string, number>();
      let posts = 0;
      let badSignatures = 0;
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          posts++;
          const body = Buffer.concat(chunks);
          if (!verifyWebhook(secret, req.headers, body)) badSignatures++; // signature and Idempotency-Key
          // Every 97th request first fails with a 503: the sink retries it.
          if (posts % 97 === 0) return void res.writeHead(503).end('busy');
          const key = String(req.headers['idempotency-key']);
          const payload = JSON.parse(body.toString()) as { idempotency_key: string; payload: { id: number } };
          assert.equal(payload.idempotency_key, key);
          assert.equal(key, keyOf(payload.payload.id));
          if (!effects.has(key)) effects.set(key, payload.payload.id); // the receiver dedupes on the key
          res.writeHead(200).end('{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      t.after(() => new Promise<void>((r) => server.close(() => r())));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      process.env.SLUICE_WEBHOOK_SECRET = secret; // the child inherits it
      t.after(() => delete process.env.SLUICE_WEBHOOK_SECRET);
      const summary = await killAndFinish(job, [dir, url], KILLS);
      assert.equal(summary.resumed, true);
      assert.equal(badSignatures, 0);
      assertExactlyOnce([...effects.keys()], 'webhook');
      assert.ok(posts >= effects.size, 'replays re-sent some keys, which the receiver deduped');
    },
  );

  it('embedded-log topic: the output topic holds every action once', { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    fillEvents(dir, N);
    const summary = await killAndFinish(job, [dir, 'log:alerts'], KILLS);
    assert.equal(summary.resumed, true);
    const log = Log.open(join(dir, 'log'));
    t.after(() => log.close());
    assertExactlyOnce(readKeys(log, 'alerts'), 'log topic');
  });

  it(
    'Kafka topic through `sluice broker`: the output topic holds every action once',
    { timeout: 90_000 },
    async (t) => {
      const dir = tempDir(t);
      fillEvents(dir, N);
      const broker = await startBroker({
        port: 0,
        dataDir: join(dir, 'broker'),
        fsync: 'never',
        onWarning: () => {},
      });
      t.after(() => broker.close());
      const summary = await killAndFinish(job, [dir, `kafka://${broker.address}/alerts`], KILLS);
      assert.equal(summary.resumed, true);
      assertExactlyOnce(readKeys(broker.log, 'alerts'), 'kafka topic');
    },
  );
});

/** The idempotency-key headers of every record of a topic. */
function readKeys(log: Log, topic: string): string[] {
  const keys: string[] = [];
  for (let p = 0; p < log.partitionCount(topic); p++) {
    const part = log.partition(topic, p);
    for (let o = part.logStartOffset; o < part.highWatermark;) {
      const { records, nextOffset } = part.read(o);
      for (const r of records)
        keys.push(r.headers.find((h) => h.key === ACTION_HEADERS.key)!.value!.toString());
      o = nextOffset;
    }
  }
  return keys;
}
