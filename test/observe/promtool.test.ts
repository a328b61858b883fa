import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { DashboardServer, Observer } from '../../src/observe/index.js';
import {
  MemoryCheckpointStore,
  collect,
  fromArray,
  pipeline,
  type ModelLike,
} from '../../src/stream/index.js';
import { commandExists, needService } from '../helpers/services.js';
import { parsePrometheus } from './helpers.js';

/** A model that takes ~2 ms per call and answers 0 for every row. */
const slowModel: ModelLike = {
  async run(inputs) {
    await new Promise((r) => setTimeout(r, 2));
    const n = inputs.features!.dims[0]!;
    return { score: { type: 'float32', data: new Float32Array(n), dims: [n, 1] } };
  },
};

const noPromtool = await needService('promtool (Debian package prometheus)', () => commandExists('promtool'));

describe('promtool check metrics', () => {
  it(
    'passes on /metrics of a pipeline with every kind of series (histograms with samples, dead letters, checkpoints, SLOs)',
    { skip: noPromtool },
    async () => {
      const run = pipeline('lint')
        .from(fromArray(Array.from({ length: 3000 }, (_, i) => i)))
        .map(
          (v) => {
            if (v % 500 === 7) throw new Error('bad record');
            return v;
          },
          { name: 'check' },
        )
        .infer(slowModel, { width: 1, input: (v) => [v], output: (v) => v, name: 'score' })
        .to(collect<number>())
        .run({
          batchSize: 100,
          progressIntervalMs: 50,
          checkpoints: new MemoryCheckpointStore(),
          checkpointIntervalMs: 20,
        });
      const obs = new Observer({
        slo: [{ name: 'e2e', metric: 'e2e_p99_ms', op: '<', threshold: 1e6 }],
        log: null,
      });
      obs.add(run.metrics);
      const dash = await DashboardServer.start({ observer: obs, port: 0 });
      try {
        await run.done;
        run.metrics.tick(0); // fold the last interval, as the next tick would
        obs.evaluate();
        const text = await (await fetch(`${dash.url}metrics`)).text();
        // The scrape has samples in every latency histogram, so the check covers their lines.
        const families = parsePrometheus(text);
        for (const name of [
          'sluice_stage_latency_seconds',
          'sluice_e2e_latency_seconds',
          'sluice_event_time_latency_seconds',
          'sluice_checkpoint_duration_seconds',
          'sluice_model_call_seconds',
          'sluice_batch_wait_seconds',
          'sluice_batch_size_records',
        ]) {
          const f = families.get(name)!;
          assert.equal(f.type, 'histogram', name);
          assert.ok(
            f.samples.some((s) => s.name === `${name}_bucket` && s.labels.le === '+Inf' && s.value > 0),
            name,
          );
        }
        const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
        assert.equal(`${check.stdout}${check.stderr}`.trim(), '', 'no lint finding');
      } finally {
        await dash.close();
        obs.close();
      }
    },
  );
});
