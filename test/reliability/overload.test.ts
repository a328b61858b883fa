import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LmdbCheckpointStore, json, logSource, pipeline } from '../../src/index.js';
import { Log } from '../../src/log/index.js';
import { Observer, type SloAlert } from '../../src/observe/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-overload-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Overload length; the figure is 60 s (SLUICE_OVERLOAD_SECONDS shortens it locally). */
const SECONDS = Number(process.env.SLUICE_OVERLOAD_SECONDS ?? 60);
/** What the slow downstream can take while overloaded, and what the producer offers (5x). */
const CAPACITY_EPS = 5_000;
const OFFERED_EPS = 5 * CAPACITY_EPS;

describe('overload suite', () => {
  it(
    `a producer offering 5x the pipeline's capacity for ${SECONDS} s: memory bounded, lag grows then drains, SLO alert fires and resolves`,
    { timeout: (SECONDS + 120) * 1000 },
    async () => {
      const log = Log.open(join(tmp, 'log'));
      log.createTopic('load', { partitions: 1 });
      const part = log.partition('load', 0);
      const alerts: SloAlert[] = [];
      const observer = new Observer({
        slo: [{ name: 'lag', metric: 'lag', op: '<', threshold: 20_000, window: '3s' }],
        onAlert: (a) => void alerts.push(a),
        log: () => {},
      });
      let overloaded = true;
      let maxRss = 0;
      let maxLag = 0;
      const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250);
      const store = LmdbCheckpointStore.open(join(tmp, 'state'));
      let produced = 0;
      const run = pipeline('overload')
        .from(logSource({ log, topic: 'load' }))
        .decode(json({ id: 'integer', v: 'number' }))
        .to({
          name: 'slow-downstream',
          // While overloaded the downstream takes CAPACITY_EPS; then it recovers and drains the backlog.
          write: async (recs) => {
            if (overloaded) await new Promise((r) => setTimeout(r, (recs.length / CAPACITY_EPS) * 1000));
          },
        })
        .run({ checkpoints: store, batchSize: 500, onProgress: (p) => (maxLag = Math.max(maxLag, p.lag)) });
      observer.add(run.metrics);

      const started = performance.now();
      while (performance.now() - started < SECONDS * 1000) {
        const due = Math.floor(((performance.now() - started) / 1000) * OFFERED_EPS) - produced;
        if (due > 0) {
          const n = Math.min(due, 5000);
          part.append(
            Array.from({ length: n }, (_, i) => ({
              value: Buffer.from(`{"id":${produced + i},"v":${(produced + i) % 97}}`),
            })),
          );
          produced += n;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      overloaded = false;
      // The downstream recovered: wait for the backlog to drain and the SLO to resolve, then stop.
      const drainStarted = performance.now();
      let drainedAfterMs = -1;
      while (performance.now() - drainStarted < 90_000) {
        if (drainedAfterMs < 0 && run.metrics.counters.processed >= produced)
          drainedAfterMs = performance.now() - drainStarted;
        if (drainedAfterMs >= 0 && alerts.some((a) => a.state === 'resolved')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const summary = await run.stop();
      clearInterval(sampler);
      observer.close();
      await store.close();
      log.close();

      assert.ok(produced >= OFFERED_EPS * SECONDS * 0.9, `offered ${produced} records`);
      assert.equal(summary.counters.processed, produced, 'every record processed after the drain');
      assert.ok(maxLag > 4 * CAPACITY_EPS, `lag grew to ${maxLag}`);
      assert.ok(drainedAfterMs >= 0, 'the backlog drained');
      assert.ok(maxRss < 512 * 1024 * 1024, `RSS peaked at ${Math.round(maxRss / 2 ** 20)} MB`);
      const states = alerts.filter((a) => a.rule.name === 'lag').map((a) => a.state);
      assert.deepEqual(states.slice(0, 2), ['firing', 'resolved'], `lag SLO alerts: ${states.join(', ')}`);
      console.log(
        `# overload: offered ${produced} records over ${SECONDS} s, max lag ${maxLag}, peak RSS ${Math.round(maxRss / 2 ** 20)} MB, drained in ${Math.round(drainedAfterMs)} ms, alerts ${states.join(' -> ')}`,
      );
    },
  );
});
