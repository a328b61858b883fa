// The anomaly demo on a live series over MQTT (`sluice demo anomaly --from mqtt://...`): sensor
// readings published to Mosquitto are scored as they arrive, a level shift raises alerts, and
// the results file holds one scored row per reading.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { runAnomalyDemo } from '../../src/apps/anomaly/demo.js';
import type { PipelineRun } from '../../src/index.js';
import { needService, portOpen } from '../helpers/services.js';

const skip = await needService('mosquitto on 127.0.0.1:1883', () => portOpen(1883));
const tmp = mkdtempSync(join(tmpdir(), 'sluice-anomaly-mqtt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const N = 800;
const SHIFT_AT = 600;
const T0 = Date.UTC(2015, 0, 1);
const stamp = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

it(
  'scores readings published over MQTT as they arrive, and alerts on a level shift',
  { skip, timeout: 60_000 },
  async () => {
    const topic = `sluice/anomaly/${process.pid}`;
    const out = join(tmp, 'results');
    let run: PipelineRun | undefined;
    let processed = 0;
    let want = 0;
    const demo = runAnomalyDemo({
      from: `mqtt://127.0.0.1:1883/${topic}`,
      outDir: out,
      batchSize: 64,
      onStart: (r) => (run = r),
      onProgress: (p) => (processed = p.counters.processed),
    });
    const pub = await connectAsync('mqtt://127.0.0.1:1883');
    try {
      // Publish once the pipeline's subscription is in place: retry the first reading until it is read.
      const reading = (i: number) =>
        JSON.stringify({
          timestamp: stamp(T0 + i * 300_000),
          value: 50 + 10 * Math.sin(i / 20) + (i >= SHIFT_AT ? 40 : 0),
        });
      const started = Date.now();
      while (run === undefined || run.metrics.counters.in === 0) {
        if (Date.now() - started > 20_000) throw new Error('the demo never read the first reading');
        if (run) await pub.publishAsync(topic, reading(0), { qos: 1 });
        await new Promise((r) => setTimeout(r, 200));
      }
      const first = run.metrics.counters.in; // reading 0, maybe more than once: each is a row
      for (let i = 1; i < N; i++) await pub.publishAsync(topic, reading(i), { qos: 1 });
      want = first + N - 1;
      while (run.metrics.counters.processed + run.metrics.counters.deadLetters < want) {
        if (Date.now() - started > 50_000) throw new Error(`only ${processed} of ${want} readings processed`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await run.stop();
    } finally {
      await pub.endAsync();
    }
    const r = await demo;
    assert.equal(r.processed, want, 'every published reading scored');
    assert.equal(r.dead_letters, 0);
    assert.equal(r.nab, null, 'no labels, no NAB scores');
    const rows = readFileSync(join(out, `${topic.split('/').pop()}.csv`), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    assert.equal(rows.length, r.processed);
    assert.ok(r.alerts > 0, 'the level shift raised alerts');
    const scores = rows.map((l) => Number(l.split(',')[2]));
    const before = Math.max(...scores.slice(50, SHIFT_AT - 10));
    const at = Math.max(...scores.slice(-(N - SHIFT_AT)));
    assert.ok(at > before, `the shift scores higher (${at}) than anything before it (${before})`);
  },
);
