import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerReadiness } from '../../src/cli/commands/run-readiness.js';
import { DashboardServer, Observer, PipelineMetrics, type Readiness } from '../../src/observe/index.js';

async function get(url: string): Promise<{ status: number; body: Readiness & { status?: string } }> {
  const r = await fetch(url);
  assert.match(r.headers.get('content-type')!, /^application\/json/);
  return { status: r.status, body: (await r.json()) as Readiness & { status?: string } };
}

describe('/healthz and /readyz', () => {
  it('alive always; ready once a pipeline ticks, with the reasons while not (no pipeline, lag, a failing check)', async () => {
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    let restored = false;
    const dash = await DashboardServer.start({
      observer: obs,
      port: 0,
      readyMaxLag: 100,
      readiness: () => [
        restored
          ? { name: 'restored', ok: true }
          : { name: 'restored', ok: false, reason: 'restoring partition 3' },
      ],
    });
    try {
      assert.deepEqual(await get(`${dash.url}healthz`), { status: 200, body: { status: 'alive' } });
      let r = await get(`${dash.url}readyz`);
      assert.equal(r.status, 503);
      assert.deepEqual(
        r.body.checks.filter((c) => !c.ok).map((c) => c.reason),
        ['restoring partition 3', 'no pipeline has reported yet'],
      );

      const m = new PipelineMetrics('fraud');
      obs.add(m);
      m.tick(500);
      restored = true;
      r = await get(`${dash.url}readyz`);
      assert.equal(r.status, 503);
      assert.deepEqual(
        r.body.checks.filter((c) => !c.ok),
        [{ name: 'lag:fraud', ok: false, reason: 'lag 500 records is above 100' }],
      );

      m.tick(40);
      r = await get(`${dash.url}readyz`);
      assert.equal(r.status, 200);
      assert.equal(r.body.ready, true);
      assert.deepEqual(
        r.body.checks.map((c) => c.name),
        ['restored', 'running', 'ticking:fraud', 'lag:fraud'],
      );
    } finally {
      await dash.close();
      obs.close();
    }
  });

  it('a pipeline that stopped ticking is not ready', async () => {
    // The observer stamps snapshots with its clock: 20 s ago, as if the pipeline had stalled since.
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false, clock: () => Date.now() - 20_000 });
    const dash = await DashboardServer.start({ observer: obs, port: 0 });
    try {
      const m = new PipelineMetrics('stuck');
      obs.add(m);
      m.tick(0);
      const r = await get(`${dash.url}readyz`);
      assert.equal(r.status, 503);
      assert.match(r.body.checks.find((c) => c.name === 'ticking:stuck')!.reason!, /last progress 20 s ago/);
      assert.equal(
        r.body.checks.some((c) => c.name.startsWith('lag:')),
        false,
        'no lag check without readyMaxLag',
      );
    } finally {
      await dash.close();
      obs.close();
    }
  });

  it('sluice run worker readiness follows its assignment and restores', () => {
    const w = new WorkerReadiness();
    assert.deepEqual(w.checks()[0], {
      name: 'assigned',
      ok: false,
      reason: 'not in the consumer group yet (no assignment)',
    });
    w.see({ event: 'assigned', member: 'w1', generation: 1, partitions: [0, 1, 2], revoked: [] });
    w.see({ event: 'restore', member: 'w1', partition: 2, records: 0, of: 10, done: false, ms: 0 });
    w.see({ event: 'restore', member: 'w1', partition: 0, records: 0, of: 10, done: false, ms: 0 });
    assert.deepEqual(w.checks()[1], {
      name: 'restored',
      ok: false,
      reason: 'restoring the state of partition(s) 0, 2',
    });
    w.see({ event: 'restore', member: 'w1', partition: 0, records: 10, of: 10, done: true, ms: 5 });
    // Partition 2 moves away mid-restore: nothing left to wait for.
    w.see({ event: 'assigned', member: 'w1', generation: 2, partitions: [0, 1], revoked: [2] });
    assert.deepEqual(w.checks(), [
      { name: 'assigned', ok: true },
      { name: 'restored', ok: true },
    ]);
  });
});
