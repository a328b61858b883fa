import type pg from 'pg';
import { requireOption, type StageContext } from '../stream/index.js';
import { backoffDelay, resolveBackoff, sleep, type BackoffOptions } from './backoff.js';
import { ActionError } from './errors.js';
import type { ActionEntry, ActionSink, DeliveryResult } from './sink.js';
import { redactUrls } from '../core/redact.js';

export const DEFAULT_ACTIONS_TABLE = 'sluice_actions';

export interface PostgresSinkOptions {
  /** postgres://user:password@host:port/db; `?table=NAME` picks the table. Or give `pool`. */
  url?: string;
  /** An existing pool (left open by the sink). */
  pool?: pg.Pool;
  /** Table, optionally schema-qualified; default `?table=` of the URL, else sluice_actions. */
  table?: string;
  /** Create the table when missing. Default true. */
  createTable?: boolean;
  /** Rows per INSERT statement (one transaction per batch whatever its size). Default 1000. */
  chunkSize?: number;
  /** Retries on connection loss, deadlocks and serialization failures. Default 5 from 200 ms. */
  backoff?: BackoffOptions;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// Errors a retry can fix: connection loss (class 08, admin shutdown), overload, deadlocks.
const RETRYABLE =
  /^(08|57P0|53300|40001|40P01)|^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/;
// The driver's own errors for a lost connection carry no code (a server restart, a cut link).
const CONNECTION_LOST =
  /^Connection terminated|connection error and is not queryable|due to connection timeout/;

function canRetry(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code ? RETRYABLE.test(e.code) : CONNECTION_LOST.test(e.message ?? '');
}

/** Errors a checked-out client emits when its connection drops; the query in flight fails with them too. */
const ignoreClientError = () => {};
/** Pools whose clients get `ignoreClientError` as they are made (see open()). */
const listenedPools = new WeakSet<pg.Pool>();

function quoteTable(name: string): string {
  const parts = name.split('.');
  requireOption(
    parts.length <= 2 && parts.every((p) => IDENT.test(p)),
    `postgresActionSink: table "${name}" must be NAME or SCHEMA.NAME of letters, digits and "_"`,
  );
  return parts.map((p) => `"${p}"`).join('.');
}

/** "host:port/db" of a URL, never its password (for messages). */
function where(url: string | undefined): string {
  if (!url) return 'the given pool';
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/**
 * Writes actions to a Postgres table in one transaction per batch, as a batched upsert on the
 * idempotency key (`INSERT ... ON CONFLICT (idempotency_key) DO NOTHING`): a replayed action
 * finds its row and changes nothing, so the table holds each action exactly once.
 * Columns: idempotency_key (primary key), pipeline, action, payload (jsonb), event_time, created_at.
 *
 * @example
 * stream.to(action({ name: 'alert', payload: (t) => t, to: postgresActionSink({ url: 'postgres://postgres@127.0.0.1/test?table=alerts' }) }));
 */
export function postgresActionSink(opts: PostgresSinkOptions): ActionSink {
  requireOption(!!opts.url !== !!opts.pool, 'postgresActionSink: give either url or pool');
  let connString = opts.url;
  let tableName = opts.table;
  if (opts.url) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new ActionError(
        'SLUICE_SINK_URL',
        `postgresActionSink: "${redactUrls(opts.url)}" is not a URL; use postgres://user@host:port/db`,
      );
    }
    requireOption(
      u.protocol === 'postgres:' || u.protocol === 'postgresql:',
      `postgresActionSink: ${u.protocol} is not postgres:`,
    );
    tableName ??= u.searchParams.get('table') ?? undefined;
    u.searchParams.delete('table');
    connString = u.toString();
  }
  const table = quoteTable(tableName ?? DEFAULT_ACTIONS_TABLE);
  const chunkSize = opts.chunkSize ?? 1000;
  requireOption(
    Number.isInteger(chunkSize) && chunkSize > 0,
    'postgresActionSink: chunkSize must be a positive integer',
  );
  const backoff = resolveBackoff(opts.backoff ?? { initialDelayMs: 200 }, 'postgresActionSink');
  const shown = `postgres:${where(opts.url)}/${tableName ?? DEFAULT_ACTIONS_TABLE}`;
  let pool = opts.pool;
  let pipelineName = '';

  const fail = (err: unknown, doing: string): never => {
    const e = err as Error & { code?: string };
    const retryable = canRetry(e);
    throw new ActionError(
      retryable ? 'SLUICE_ACTION_UNAVAILABLE' : 'SLUICE_ACTION_FAILED',
      `${shown}: ${doing} failed: ${e.message}${e.code ? ` (${e.code})` : ''}; ${retryable ? 'is Postgres running and reachable? check the URL' : "check the table and the role's permissions"}`,
      retryable,
      { cause: err },
    );
  };

  /** Runs `fn` in a transaction, retrying what a retry can fix. */
  const transaction = async <R>(doing: string, fn: (c: pg.PoolClient) => Promise<R>): Promise<R> => {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient | undefined;
      try {
        client = await pool!.connect();
        // Without a listener, a connection lost between two queries would be an uncaught 'error'.
        client.on('error', ignoreClientError);
        await client.query('BEGIN');
        const r = await fn(client);
        await client.query('COMMIT');
        client.off('error', ignoreClientError);
        client.release();
        return r;
      } catch (err) {
        if (client) {
          await client.query('ROLLBACK').catch(() => {});
          client.release(true); // a broken connection must not go back to the pool
        }
        if (!canRetry(err) || attempt >= backoff.retries) fail(err, doing);
        await sleep(backoffDelay(backoff, attempt));
      }
    }
  };

  return {
    name: shown,
    dedupes: true,
    async open(ctx: StageContext) {
      pipelineName = ctx.pipeline;
      if (!pool) {
        // Loaded on first use: pipelines without a Postgres sink never load the driver.
        const { default: driver } = await import('pg');
        pool = new driver.Pool({ connectionString: connString, max: 2 });
        pool.on('error', () => {}); // idle clients losing their server: the next query reconnects
      }
      // Every client the pool makes listens for errors from the start: node-postgres can parse a
      // FATAL (pg_terminate_backend, a shutdown) from the same TCP chunk as the ReadyForQuery that
      // hands a new client out, before the listener taken in transaction() is on, and an 'error'
      // event nobody listens to takes the process down. The query in flight fails regardless.
      if (!listenedPools.has(pool)) {
        listenedPools.add(pool); // once per pool, however many sinks share it
        pool.on('connect', (client) => client.on('error', ignoreClientError));
      }
      if (opts.createTable === false) return;
      await transaction('creating the table', async (c) => {
        try {
          await c.query(
            `CREATE TABLE IF NOT EXISTS ${table} (idempotency_key text PRIMARY KEY, pipeline text NOT NULL, action text NOT NULL, payload jsonb NOT NULL, event_time timestamptz, created_at timestamptz NOT NULL DEFAULT now())`,
          );
        } catch (err) {
          // Two pipelines creating the table at once: the loser sees a duplicate type/table.
          if (!['23505', '42P07'].includes((err as { code?: string }).code ?? '')) throw err;
        }
      });
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const inserted = await transaction(`writing ${entries.length} action(s)`, async (c) => {
        let n = 0;
        for (let i = 0; i < entries.length; i += chunkSize) {
          const chunk = entries.slice(i, i + chunkSize);
          const r = await c.query(
            `INSERT INTO ${table} (idempotency_key, pipeline, action, payload, event_time)
             SELECT k, $2, a, p, to_timestamp(t / 1000.0)
             FROM unnest($1::text[], $3::text[], $4::jsonb[], $5::float8[]) AS u(k, a, p, t)
             ON CONFLICT (idempotency_key) DO NOTHING`,
            [
              chunk.map((e) => e.key),
              pipelineName,
              chunk.map((e) => e.action),
              chunk.map((e) => JSON.stringify(e.payload ?? null)),
              chunk.map((e) => e.eventTime),
            ],
          );
          n += r.rowCount ?? 0;
        }
        return n;
      });
      return { done: inserted, duplicates: entries.length - inserted, rejected: [] };
    },
    async close() {
      if (!opts.pool) await pool?.end();
      pool = undefined;
    },
  };
}
