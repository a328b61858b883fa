// `sluice broker --health-port`: /healthz and /readyz for Kubernetes probes, on a port of their own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startBrokerHealth } from '../../src/broker/index.js';
import { tempDir } from '../integration/helpers.js';
import { testBroker } from './helpers.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;

describe('broker health endpoints', () => {
  it(
    'sluice broker --health-port 0 serves /healthz and a ready /readyz, and stops on SIGTERM',
    { timeout: 60_000 },
    async (t) => {
      const child = spawn(
        process.execPath,
        [bin, 'broker', '--port', '0', '--health-port', '0', '--data', join(tempDir(t), 'b')],
        {
          env: { ...process.env, SLUICE_BROKER_USERS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      t.after(() => child.exitCode === null && child.kill('SIGKILL'));
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c));
      const until = Date.now() + 30_000;
      while (!/listening on/.test(out) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const base = /health: (http:\/\/127\.0\.0\.1:\d+\/)healthz/.exec(out)?.[1];
      assert.ok(base, out);
      const live = await fetch(`${base}healthz`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'alive' });
      const ready = await fetch(`${base}readyz`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { ready: boolean; checks: { name: string; ok: boolean }[] };
      assert.equal(body.ready, true);
      assert.deepEqual(
        body.checks.map((c) => c.name),
        ['listening', 'disk', 'connections'],
      );
      assert.equal((await fetch(`${base}nope`)).status, 404);
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    },
  );

  it('/readyz answers 503 with the reason when the data directory is short of space or not writable', async (t) => {
    const broker = await testBroker(t);
    const dir = tempDir(t);
    const short = await startBrokerHealth(broker, {
      port: 0,
      dataDir: dir,
      minFreeBytes: Number.MAX_SAFE_INTEGER,
    });
    t.after(() => short.close());
    const r = await fetch(`${short.url}readyz`);
    assert.equal(r.status, 503);
    const body = (await r.json()) as {
      ready: boolean;
      checks: { name: string; ok: boolean; reason?: string }[];
    };
    assert.equal(body.ready, false);
    assert.match(body.checks.find((c) => c.name === 'disk')!.reason!, /MiB free in .* below/);
    if (process.getuid?.() !== 0) {
      // root writes anywhere: the permission check only means something for other users
      chmodSync(dir, 0o500);
      t.after(() => chmodSync(dir, 0o700));
      const ro = await startBrokerHealth(broker, { port: 0, dataDir: dir });
      t.after(() => ro.close());
      assert.equal((await fetch(`${ro.url}readyz`)).status, 503);
    }
    const missing = await startBrokerHealth(broker, { port: 0, dataDir: join(dir, 'gone') });
    t.after(() => missing.close());
    const m = await fetch(`${missing.url}readyz`);
    assert.equal(m.status, 503);
    assert.match(JSON.stringify(await m.json()), /gone: ENOENT/);
  });
});
