// HTTP ingest has backpressure and bounded memory (issue 20, item 6). The ingest runs as its own
// process (ingest-server.ts); its peak memory is read from /proc/PID/status. Checked: 3
// concurrent 8 MiB bodies of ~4 M tiny records each, a flood against a deliberately slow
// pipeline (503 + Retry-After once it is behind), the in-flight byte budget (429 +
// Retry-After) and client errors answered 4xx (a bad topic name was a 500).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const server = new URL('./ingest-server.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-ingest-limits-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const MB = 1024 * 1024;

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

let dirs = 0;
async function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', server], {
    env: { ...process.env, INGEST_DIR: join(tmp, `log-${++dirs}`), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const started = Date.now();
  while (!/listening on/.test(output) && child.exitCode === null && Date.now() - started < 30_000)
    await new Promise((r) => setTimeout(r, 50));
  const m = /listening on (\S+)/.exec(output);
  assert.ok(m, `the ingest did not start: ${output}`);
  return {
    child,
    url: m[1]!,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Peak resident memory of `pid` so far (VmHWM), in bytes. */
function peakRss(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: Record<string, unknown>;
}

/** POSTs `body` (all of it, or only `sendFirst` bytes until `finish()` is called). */
function post(url: string, body: Buffer, type = 'application/x-ndjson', sendFirst?: number) {
  let finish = () => {};
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': type, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            retryAfter: res.headers['retry-after'],
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          }),
        );
      },
    );
    req.on('error', reject);
    if (sendFirst === undefined) return void req.end(body);
    req.write(body.subarray(0, sendFirst));
    finish = () => req.end(body.subarray(sendFirst));
  });
  return { answer, finish: () => finish() };
}

/** `n` bytes of NDJSON of the tiniest records: "1\n" repeated (n / 2 records). */
const tinyRecords = (n: number) => Buffer.alloc(n, '1\n');

describe('HTTP ingest limits (backpressure, bounded memory)', () => {
  it(
    '3 concurrent 8 MiB bodies of ~4 M tiny records each keep RSS under 512 MB',
    { timeout: 300_000 },
    async () => {
      const s = await startServer({ INGEST_MODE: 'plain' });
      try {
        const before = peakRss(s.child.pid!);
        const body = tinyRecords(8 * MB);
        const started = Date.now();
        const answers = await Promise.all([0, 1, 2].map(() => post(`${s.url}ingest/tiny`, body).answer));
        const peak = peakRss(s.child.pid!);
        console.log(
          `# 3 x 8 MiB of ${body.length / 2} records: peak RSS ${Math.round(before / MB)} -> ${Math.round(peak / MB)} MB, ${Date.now() - started} ms, answers ${answers.map((a) => a.status).join(' ')}`,
        );
        for (const a of answers) assert.deepEqual([a.status, a.body.accepted], [200, body.length / 2]);
        // Each request's records are consecutive offsets of its partition, though they were
        // appended a slice at a time while the other requests were being handled.
        const ranges = answers.map((a) => a.body.offsets as [number, number]).sort((x, y) => x[0] - y[0]);
        assert.deepEqual(
          ranges,
          [0, 1, 2].map((i) => [i * (body.length / 2), (i + 1) * (body.length / 2) - 1]),
        );
        assert.ok(peak < 512 * MB, `peak RSS ${Math.round(peak / MB)} MB`);
      } finally {
        await s.stop();
      }
      // Records are handled a slice at a time, so the process's own timers keep firing.
      const delay = Number(/max timer delay (\d+) ms/.exec(s.output())?.[1]);
      console.log(`# the ingest process's timers fired at most ${delay} ms late`);
      // Bounded loosely: CI machines are shared (before: the whole body in one go, 7 s late in the issue).
      assert.ok(delay < 3000, `timers fired ${delay} ms late`);
    },
  );

  it(
    'a flood against a slow pipeline gets 503 with Retry-After once the pipeline is behind',
    { timeout: 120_000 },
    async () => {
      // The sink takes 500 records per 200 ms (2,500/s); 8 clients offer far more.
      const s = await startServer({
        INGEST_MODE: 'pipeline',
        INGEST_SINK_DELAY_MS: '200',
        INGEST_OPTIONS: JSON.stringify({ maxBacklog: 20_000 }),
      });
      try {
        const body = Buffer.from(Array.from({ length: 2000 }, (_, i) => `{"n":${i}}`).join('\n'));
        const counts = new Map<number, number>();
        let accepted = 0;
        let retryAfter: string | undefined;
        const end = Date.now() + 3000;
        const client = async () => {
          while (Date.now() < end) {
            const a = await post(`${s.url}ingest/events`, body).answer;
            counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
            if (a.status === 200) accepted += a.body.accepted as number;
            if (a.status === 503) retryAfter = a.retryAfter;
          }
        };
        await Promise.all(Array.from({ length: 8 }, client));
        const written = Math.max(0, ...[...s.output().matchAll(/written (\d+)/g)].map((m) => Number(m[1])));
        console.log(
          `# flood for 3 s against a 2,500 records/s pipeline (maxBacklog 20,000): ${[...counts].map(([k, v]) => `${v} x ${k}`).join(', ')}; ${accepted} records accepted, ${written} written by the pipeline`,
        );
        assert.ok((counts.get(503) ?? 0) > 0, 'the flood is told to come back later');
        assert.equal(retryAfter, '1', 'with Retry-After');
        assert.deepEqual(
          [...counts.keys()].filter((k) => k !== 200 && k !== 503),
          [],
          'nothing but 200 and 503',
        );
        // What was accepted is what the pipeline took plus at most the backlog and one body per client.
        assert.ok(accepted <= written + 20_000 + 8 * 2000 + 5000, `${accepted} accepted, ${written} written`);
      } finally {
        await s.stop();
      }
    },
  );

  it(
    'bodies beyond the in-flight budget get 429 with Retry-After; client errors get 4xx',
    { timeout: 60_000 },
    async () => {
      const s = await startServer({
        INGEST_MODE: 'plain',
        INGEST_OPTIONS: JSON.stringify({ maxBodyBytes: MB, maxInFlightBytes: MB + MB / 2 }),
      });
      try {
        const body = tinyRecords(MB);
        // The first body is sent half-way and held: it holds 1 MiB of the 1.5 MiB budget.
        const held = post(`${s.url}ingest/busy`, body, 'application/x-ndjson', MB / 2);
        await new Promise((r) => setTimeout(r, 300));
        const second = await post(`${s.url}ingest/busy`, body).answer;
        assert.equal(second.status, 429);
        assert.equal(second.retryAfter, '1');
        assert.equal(second.body.code, 'SLUICE_INGEST_BUSY');
        held.finish();
        assert.equal((await held.answer).status, 200);
        // The budget is free again.
        assert.equal((await post(`${s.url}ingest/busy`, body).answer).status, 200);

        const small = Buffer.from('{"a":1}\n');
        for (const [path, code] of [
          ['ingest/bad%20name', 'SLUICE_INGEST_BAD_TOPIC'],
          ['ingest/%zz', 'SLUICE_INGEST_BAD_TOPIC'],
          ['ingest/a%2Fb', 'SLUICE_INGEST_BAD_TOPIC'],
          [`ingest/${'x'.repeat(300)}`, 'SLUICE_INGEST_BAD_TOPIC'],
        ]) {
          const a = await post(`${s.url}${path}`, small).answer;
          assert.deepEqual([a.status, a.body.code], [400, code], path);
        }
        const json = await post(`${s.url}ingest/ok`, Buffer.from('[1,'), 'application/json').answer;
        assert.equal(json.status, 400);
        assert.doesNotMatch(s.output(), /Error|at /, 'no stack on the server side');
      } finally {
        await s.stop();
      }
    },
  );
});
