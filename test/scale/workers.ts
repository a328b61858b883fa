// Helpers of the scale-out tests: `sluice broker` and `sluice run` as child processes, with the
// JSON events the workers print collected as they come.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { WorkerEvent } from '../../src/scale.js';

export const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
export const APP = fileURLToPath(new URL('../../examples/scaleout/pipeline.ts', import.meta.url));
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type Event =
  | WorkerEvent
  | { event: 'worker'; member: string; pid: number }
  | { event: 'dashboard'; member: string; url: string; metrics: string };

/** A child process whose stdout JSON lines are kept in `events`. */
export interface Proc {
  child: ChildProcess;
  events: Event[];
  stderr: string[];
  exited: Promise<number | null>;
}

export function spawnSluice(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  const stderr: string[] = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Event);
      } catch {
        stderr.push(`stdout: ${line}`);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, events, stderr, exited };
}

/** Starts `sluice broker` on a free port; resolves with its address once it listens. */
export async function startBrokerProcess(
  dataDir: string,
  partitions: number,
): Promise<{ proc: Proc; address: string }> {
  const proc = spawnSluice(['broker', '--port', '0', '--data', dataDir, '--partitions', String(partitions)]);
  let out = '';
  proc.child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const address = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], 20_000, 'the broker to listen');
  return { proc, address };
}

/** Polls `check` every 100 ms until it returns a value; fails with `what` after `ms`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
  what: string,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Rows of an action table, and a digest over (key, payload) in key order. */
export async function tableDigest(pool: pg.Pool, table: string): Promise<{ rows: number; digest: string }> {
  const exists = await pool.query(`SELECT to_regclass($1) AS t`, [table]);
  if (exists.rows[0].t === null) return { rows: 0, digest: '' };
  const r = await pool.query(
    `SELECT idempotency_key, payload::text AS p FROM "${table}" ORDER BY idempotency_key`,
  );
  const h = createHash('sha256');
  for (const row of r.rows as { idempotency_key: string; p: string }[])
    h.update(`${row.idempotency_key}\t${row.p}\n`);
  return { rows: r.rowCount ?? 0, digest: h.digest('hex') };
}

/** The partitions each member was last assigned (back half). */
export function assignments(events: Event[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of events) if (e.event === 'assigned') out.set(e.member, e.partitions);
  return out;
}
