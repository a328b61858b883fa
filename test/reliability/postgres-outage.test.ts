// Faults in actions: Postgres goes away mid-run and comes back. The pipeline's actions go to
// Postgres through postgresActionSink; its retries must ride out the outage and the table must end
// with every action exactly once, nothing dead-lettered, the pipeline finished.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { action, pipeline, postgresActionSink } from '../../src/index.js';
import { MemoryDeadLetters, fromArray } from '../../src/testing.js';
import { needService, portOpen } from '../helpers/services.js';
import { FlakyProxy } from './flaky-proxy.js';
import { PrivatePostgres } from './private-postgres.js';

const N = 6000;
const OUTAGE_MS = 1500;
const records = Array.from({ length: N }, (_, i) => ({ id: i, v: i * 0.5 }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sharedSkip = await needService('postgres on 127.0.0.1:5432', () => portOpen(5432));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/**
 * Sends the records' actions to `table` at `url`; `outage(k)` is started (not awaited) once
 * k thirds of them are in, k = 1, 2, so both outages hit the run mid-stream.
 */
async function runThrough(url: string, table: string, outage: (k: number) => Promise<void>) {
  const refused = new MemoryDeadLetters();
  const dead = new MemoryDeadLetters();
  const outages: Promise<void>[] = [];
  let delivered = 0;
  const started = Date.now();
  const summary = await pipeline('pg-outage')
    .from(fromArray(records, { topic: 'orders' }))
    // Spreads the run over time, so that actions keep coming while the server is away.
    .mapBatch(async (values) => (await sleep(5), values), { name: 'pace' })
    .to(
      action({
        name: 'audit',
        payload: (o) => o,
        to: postgresActionSink({ url, table }), // default backoff: 5 retries from 200 ms, >= 3.1 s in all
        deadLetters: refused,
        deliver: async (entries) => {
          const before = delivered;
          delivered += entries.length;
          for (const k of [1, 2])
            if (before < (k * N) / 3 && delivered >= (k * N) / 3) outages.push(outage(k));
        },
      }),
    )
    .run({ batchSize: 50, deadLetters: dead }).done;
  await Promise.all(outages);
  return { summary, refused, dead, elapsedMs: Date.now() - started, outages: outages.length };
}

/** Asserts the table holds each action once, with its payload, and that `pauses` outages stopped the writes. */
async function assertExactlyOnce(
  client: pg.Client,
  table: string,
  r: Awaited<ReturnType<typeof runThrough>>,
  pauses: number,
) {
  const s = r.summary;
  assert.equal(r.outages, 2, 'both outages started');
  assert.equal(s.stopped, false);
  assert.equal(s.counters.processed, N);
  assert.equal(s.counters.deadLetters, 0, 'no dead letters in the pipeline');
  assert.equal(r.refused.count, 0, 'no action refused for good');
  assert.equal(s.counters.actions + s.counters.duplicateActions, N);
  const { rows } = await client.query<{ k: string; id: number; v: number; t: number }>(
    `SELECT idempotency_key AS k, (payload->>'id')::int AS id, (payload->>'v')::float8 AS v,
            extract(epoch FROM created_at) * 1000 AS t FROM ${table} ORDER BY created_at, idempotency_key`,
  );
  assert.equal(rows.length, N, 'every action exactly once');
  const ids = new Set<number>();
  for (const row of rows) {
    assert.equal(row.k, `pg-outage/audit/orders-0@${row.id}`);
    assert.equal(row.v, row.id * 0.5);
    ids.add(row.id);
  }
  assert.equal(ids.size, N);
  // Server-side proof that the writes stopped during each outage and went on after it.
  const gaps = rows.slice(1).map((row, i) => Number(row.t) - Number(rows[i]!.t));
  const long = gaps.filter((g) => g >= OUTAGE_MS * 0.8).length;
  assert.ok(
    long >= pauses,
    `expected ${pauses} pauses of >= ${OUTAGE_MS * 0.8} ms in the inserts, got ${long}`,
  );
  return { longestGapMs: Math.round(Math.max(...gaps)), elapsedMs: r.elapsedMs, actions: s.counters.actions };
}

describe('faults in actions: Postgres restarted mid-run', () => {
  it('a real restart of a Postgres server (fast stop, then an immediate one = crash): every action once', async (t) => {
    const server = await PrivatePostgres.start();
    if (typeof server === 'string') {
      // Only a server of our own may be restarted: the shared one serves other test files.
      console.log(`# skipped the real restart: ${server}; the connection-cut case below still runs`);
      return t.skip(server);
    }
    cleanups.push(() => server.destroy());
    const table = 'actions_restart';
    const r = await runThrough(server.url, table, async (k) => {
      await server.down(k === 1 ? 'fast' : 'immediate');
      await sleep(OUTAGE_MS);
      await server.up();
    });
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    cleanups.push(() => client.end());
    const figures = await assertExactlyOnce(client, table, r, 2);
    const { rows } = await client.query<{ up: Date }>('SELECT pg_postmaster_start_time() AS up');
    assert.ok(
      rows[0]!.up.getTime() > Date.now() - figures.elapsedMs,
      'the server was restarted during the run',
    );
    console.log(`# real restart: ${JSON.stringify(figures)}`);
  });

  it(
    'connections cut by the server (pg_terminate_backend) and refused by a proxy (a restart as clients see it): every action once',
    { skip: sharedSkip },
    async () => {
      const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
      await admin.connect();
      cleanups.push(() => admin.end());
      const proxy = await new FlakyProxy({ host: '127.0.0.1', port: 5432 }).start();
      cleanups.push(() => proxy.close());
      const app = `sluice_outage_${process.pid}`;
      const table = `${app}_actions`;
      cleanups.push(() => admin.query(`DROP TABLE IF EXISTS ${table}`));
      const url = `postgres://postgres@127.0.0.1:${proxy.port}/test?application_name=${app}`;
      let terminated = 0;
      const r = await runThrough(url, table, async (k) => {
        if (k === 2) return proxy.outage(OUTAGE_MS);
        // The server kills every session of the sink, again and again, for the outage's length.
        for (const end = Date.now() + OUTAGE_MS; Date.now() < end; await sleep(20)) {
          const q = await admin.query(
            'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
            [app],
          );
          terminated += q.rows[0].n as number;
        }
      });
      // Sessions killed every 20 ms still let some writes through: only the proxy's outage is a pause.
      const figures = await assertExactlyOnce(admin, table, r, 1);
      assert.ok(terminated > 0, 'the server terminated sessions of the sink');
      console.log(`# connection cuts: ${JSON.stringify({ ...figures, terminated })}`);
    },
  );
});
