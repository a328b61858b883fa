// postgresActionSink against a real Postgres: creates the table, writes batches as upserts on the
// idempotency key in one transaction, counts replays as duplicates, and says what to fix.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { action, actionSinkFromUrl, postgresActionSink, type ActionEntry } from '../../src/actions/index.js';
import { fromArray, pipeline } from '../../src/stream/index.js';
import { needService, portOpen } from '../helpers/services.js';
import { uniqueName } from './helpers.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const skip = await needService('postgres on 127.0.0.1:5432', () => portOpen(5432));
const tables: string[] = [];
const client = skip ? undefined : new pg.Client({ connectionString: PG_URL });
await client?.connect();
after(async () => {
  for (const t of tables) await client!.query(`DROP TABLE IF EXISTS ${t}`);
  await client?.end();
});

const entry = (i: number): ActionEntry => ({
  key: `p/a/t-0@${i}`,
  action: 'a',
  payload: { i, note: `it's "${i}"` },
  time: 0,
  recordKey: undefined,
  eventTime: 1_700_000_000_000 + i,
});

describe('postgresActionSink', { skip }, () => {
  it('creates the table and upserts batches on the idempotency key', async () => {
    const table = uniqueName('sluice_pg');
    tables.push(table);
    const sink = actionSinkFromUrl(`${PG_URL}?table=${table}`);
    assert.equal(sink.dedupes, true);
    await sink.open!({ pipeline: 'p' });
    const first = await sink.deliver(Array.from({ length: 2500 }, (_, i) => entry(i)));
    assert.deepEqual(first, { done: 2500, duplicates: 0, rejected: [] });
    const replay = await sink.deliver(Array.from({ length: 20 }, (_, i) => entry(2490 + i)));
    assert.deepEqual(replay, { done: 10, duplicates: 10, rejected: [] });
    await sink.close!();
    const { rows } = await client!.query(
      `SELECT count(*)::int AS n, min(pipeline) AS p, max(event_time) AS t FROM ${table}`,
    );
    assert.equal(rows[0].n, 2510);
    assert.equal(rows[0].p, 'p');
    assert.equal(new Date(rows[0].t).getTime(), 1_700_000_000_000 + 2509);
    const one = await client!.query(`SELECT payload FROM ${table} WHERE idempotency_key = $1`, ['p/a/t-0@7']);
    assert.deepEqual(one.rows[0].payload, { i: 7, note: `it's "7"` });
  });

  it('runs as a pipeline action without a ledger: a second run of the same records adds nothing', async () => {
    const table = uniqueName('sluice_pg');
    tables.push(table);
    const runOnce = () =>
      pipeline('orders')
        .from(
          fromArray(
            Array.from({ length: 300 }, (_, i) => ({ id: i })),
            { topic: 'orders' },
          ),
        )
        .to(action({ name: 'audit', payload: (o) => o, to: postgresActionSink({ url: PG_URL, table }) }))
        .run().done;
    const a = await runOnce();
    const b = await runOnce();
    assert.equal(a.counters.actions, 300);
    assert.deepEqual([b.counters.actions, b.counters.duplicateActions], [0, 300]);
  });

  it('refuses a bad table name and says what to do when Postgres is unreachable', async () => {
    assert.throws(() => postgresActionSink({ url: PG_URL, table: 'x; drop table y' }), {
      code: 'SLUICE_OPTION_INVALID',
      message: /NAME or SCHEMA.NAME/,
    });
    const down = postgresActionSink({
      url: 'postgres://postgres@127.0.0.1:1/test',
      backoff: { retries: 1, initialDelayMs: 10 },
    });
    await assert.rejects(down.open!({ pipeline: 'p' }), {
      code: 'SLUICE_ACTION_UNAVAILABLE',
      message: /is Postgres running/,
    });
    await down.close!();
  });
});
