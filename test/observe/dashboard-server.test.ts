import assert from 'node:assert/strict';
import { get } from 'node:http';
import { describe, it } from 'node:test';
import { DashboardServer, Observer, type DashboardSnapshot } from '../../src/observe/index.js';
import { parsePrometheus, slowPipeline } from './helpers.js';

/** Reads `n` SSE `data:` frames from `url` (a plain http client: what EventSource does). */
function readEvents(url: string, n: number, timeoutMs = 5000): Promise<DashboardSnapshot[]> {
  return new Promise((resolve, reject) => {
    const out: DashboardSnapshot[] = [];
    let buf = '';
    const req = get(url, (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (data) out.push(JSON.parse(data.slice(6)) as DashboardSnapshot);
          if (out.length === n) {
            req.destroy();
            resolve(out);
          }
        }
      });
    });
    req.on('error', (e) => (out.length >= n ? undefined : reject(e)));
    setTimeout(() => {
      req.destroy();
      reject(new Error(`only ${out.length} of ${n} events in ${timeoutMs} ms`));
    }, timeoutMs).unref();
  });
}

describe('dashboard server', () => {
  it('streams one aggregated snapshot per tick over SSE, and serves /metrics, the page and uPlot', async () => {
    const run = slowPipeline('dash', 2000).run({ progressIntervalMs: 200, batchSize: 256 });
    const obs = new Observer({ slo: [{ name: 'lag', metric: 'lag', op: '<', threshold: 1e9 }], log: null });
    obs.add(run.metrics);
    obs.recordAction('dash', { tx: 1, score: 0.97 });
    const dash = await DashboardServer.start({ observer: obs, port: 0 });
    try {
      assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const events = await readEvents(`${dash.url}events`, 4);
      const last = events.at(-1)!;
      assert.equal(last.pipeline, 'dash');
      assert.ok(last.counters.processed > events[0]!.counters.processed, 'numbers move between snapshots');
      assert.deepEqual(Object.keys(last.stages), ['double', 'model', 'sink:collect']);
      assert.ok(last.stages.model!.p99 >= last.stages.model!.p50);
      assert.ok(last.queues.model!.capacity === 4 && last.batchSizes.model!.count > 0);
      assert.ok(last.deadLetters.double! > 0 && last.memory.rss > 0);
      assert.deepEqual(last.actions, { total: 1, latest: [{ tx: 1, score: 0.97 }] });
      assert.ok(JSON.stringify(last).length < 8000, 'a snapshot stays small');

      const metrics = await fetch(`${dash.url}metrics`);
      assert.match(metrics.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      assert.ok(parsePrometheus(await metrics.text()).has('sluice_stage_latency_seconds'));
      const page = await fetch(dash.url);
      const html = await page.text();
      assert.match(html, /<script src="uplot.js"><\/script>/);
      assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
      for (const path of ['uplot.js', 'uplot.css', 'app.js']) {
        const r = await fetch(dash.url + path);
        assert.equal(r.status, 200, path);
        assert.ok((await r.text()).length > 1000, path);
      }
      const snaps = (await (await fetch(`${dash.url}api/snapshots`)).json()) as DashboardSnapshot[];
      assert.equal(snaps[0]!.pipeline, 'dash');
      assert.equal((await fetch(`${dash.url}nope`)).status, 404);
      assert.equal((await fetch(`${dash.url}metrics`, { method: 'DELETE' })).status, 405);
    } finally {
      await run.stop();
      await dash.close();
      obs.close();
    }
  });

  it('guards control endpoints with the bearer token, and has none without one', async () => {
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    let stops = 0;
    const controls = { stop: () => void stops++ };
    const open = await DashboardServer.start({ observer: obs, controls, token: '' });
    const closed = await fetch(`${open.url}control/stop`, { method: 'POST' });
    assert.equal(closed.status, 403);
    assert.match(await closed.text(), /set SLUICE_DASHBOARD_TOKEN/);
    await open.close();

    const dash = await DashboardServer.start({ observer: obs, controls, token: 's3cret' });
    const post = (auth?: string) =>
      fetch(`${dash.url}control/stop`, { method: 'POST', headers: auth ? { authorization: auth } : {} });
    assert.equal((await post()).status, 401);
    assert.equal((await post('Bearer wrong')).status, 401);
    assert.equal(stops, 0);
    assert.equal((await post('Bearer s3cret')).status, 202);
    await new Promise((r) => setImmediate(r));
    assert.equal(stops, 1);
    assert.equal((await fetch(`${dash.url}control/toString`, { method: 'POST' })).status, 404);
    await dash.close();
    obs.close();
  });

  it('rejects a bad port with a clear error, and a port in use', async () => {
    const obs = new Observer({ evaluateEveryMs: 0, processMetrics: false });
    assert.throws(
      () => DashboardServer.start({ observer: obs, port: 70000 }),
      /port must be an integer from 0 to 65535/,
    );
    const a = await DashboardServer.start({ observer: obs });
    await assert.rejects(DashboardServer.start({ observer: obs, port: a.port }), /EADDRINUSE/);
    await a.close();
    obs.close();
  });
});
