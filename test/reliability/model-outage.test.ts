// A remote model that goes down for 10 s in the middle of a run: with the default outage policy
// ('wait') the infer stage holds its batch, the source pauses, no checkpoint passes an unscored
// record, and the run resumes by itself: 0 dead letters and the same actions as a run without
// the outage. Before this policy every record of the outage went to the dead letters.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  KServeModel,
  action,
  envelope,
  pipeline,
  withResilience,
  type CheckpointStore,
  type Envelope,
  type Source,
} from '../../src/index.js';
import { ActionLedger } from '../../src/actions/index.js';
import { MemoryCheckpointStore } from '../../src/testing.js';
import { PrometheusExporter } from '../../src/observe/index.js';
import { startKServeServer, type TestServer } from '../inference/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-outage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Hands out `n` records, `per` every `everyMs`; `read()` tells how many it has handed out. */
function pacedSource(n: number, per: number, everyMs: number): Source<number> & { read(): number } {
  let next = 0;
  return {
    name: 'paced',
    read: () => next,
    open: async () => {},
    async poll() {
      if (next >= n) return null;
      await new Promise((r) => setTimeout(r, everyMs));
      const out: Envelope<number>[] = [];
      const stamps = [performance.timeOrigin + performance.now()];
      for (let i = 0; i < per && next < n; i++, next++)
        out.push(envelope(next, 'paced', 0, next, Date.now(), stamps));
      return out;
    },
    positions: () => ({ 'paced/0': next }),
    lag: () => n - next,
    close: async () => {},
  };
}

/** A checkpoint store that checks, at every save, that no saved offset passes an unscored record. */
function checkedStore(ledger: ActionLedger, saved: number[]): CheckpointStore {
  const inner = new MemoryCheckpointStore();
  return {
    load: (p) => inner.load(p),
    reader: (p) => inner.reader(p),
    async save(meta, changes) {
      const offset = meta.offsets['paced/0'] ?? 0;
      assert.ok(
        offset <= ledger.size,
        `checkpoint ${meta.id} at offset ${offset} passes unscored records (${ledger.size} acted on)`,
      );
      saved.push(offset);
      return inner.save(meta, changes);
    },
  };
}

const N = 1000;

async function scoreAll(
  server: TestServer,
  label: string,
  duringRun: (ctx: { source: ReturnType<typeof pacedSource>; prom: PrometheusExporter }) => Promise<void>,
) {
  const remote = await KServeModel.connect({ url: server.url, model: 'fraud' });
  const model = withResilience(remote, {
    name: 'fraud-kserve',
    timeoutMs: 300,
    retry: { maxRetries: 1, initialDelayMs: 10, maxDelayMs: 20 },
    breaker: { kind: 'consecutive', failures: 3, halfOpenAfterMs: 400 },
  });
  const ledger = ActionLedger.open(join(tmp, `${label}.jsonl`));
  const saved: number[] = [];
  const source = pacedSource(N, 20, 25);
  // One pipeline name for both runs: it is part of the actions' idempotency keys.
  const run = pipeline('outage')
    .from(source)
    .infer(model, { width: 3, input: (i) => [i, 0, 0], output: (i, row) => ({ id: i, score: row[0]! }) })
    .to(action({ name: 'score', ledger, payload: (s) => s }))
    .run({
      checkpoints: checkedStore(ledger, saved),
      checkpointIntervalMs: 100,
      batchSize: 20,
      queueCapacity: 2,
      progressIntervalMs: 100,
    });
  const prom = new PrometheusExporter({ processMetrics: false });
  prom.add(run.metrics);
  await duringRun({ source, prom });
  const summary = await run.done;
  prom.close();
  await model.close();
  const out = {
    summary,
    deadLetters: run.deadLetters!.items.length,
    digest: ledger.digest(),
    acted: ledger.size,
    scores: [...ledger.entries()].map((e) => e.payload as { id: number; score: number }),
    saved,
    stats: model.stats(),
  };
  ledger.close();
  return out;
}

/** The value of one series of the exposition text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('model outage', () => {
  it("a remote model down for 10 s mid-run: 'wait' holds the batch, pauses the source, checkpoints nothing unscored, resumes; 0 dead letters, the same actions as without the outage", async () => {
    const clean = await startKServeServer('fraud', 3);
    const base = await scoreAll(clean, 'clean', async () => {});
    await clean.close();
    assert.equal(base.deadLetters, 0);
    assert.equal(base.acted, N);

    const server = await startKServeServer('fraud', 3);
    const seen = { open: false, lagDuringOutage: 0, waiting: 0, closedAfter: false };
    const got = await scoreAll(server, 'outage', async ({ source, prom }) => {
      const pipelineLabel = '{pipeline="outage"';
      await new Promise((r) => setTimeout(r, 400));
      // Down: 5 s of HTTP 500, then 5 s of connections dropped without an answer.
      server.fallbackBehavior = { status: 500 };
      const downAt = performance.now();
      await new Promise((r) => setTimeout(r, 2500));
      const readEarly = source.read();
      while (performance.now() - downAt < 5000) {
        const text = await prom.metrics();
        if (
          sample(
            text,
            `sluice_circuit_breaker_state${pipelineLabel},breaker="fraud-kserve",state="open"}`,
          ) === 1
        )
          seen.open = true;
        seen.lagDuringOutage = sample(text, `sluice_consumer_lag_records${pipelineLabel}}`) ?? 0;
        seen.waiting = Math.max(
          seen.waiting,
          sample(text, `sluice_stage_waiting_records${pipelineLabel},stage="infer"}`) ?? 0,
        );
        await new Promise((r) => setTimeout(r, 200));
      }
      server.fallbackBehavior = { drop: true };
      await new Promise((r) => setTimeout(r, 10_000 - (performance.now() - downAt)));
      assert.equal(source.read(), readEarly, 'the source read nothing while the model was down');
      assert.ok(readEarly < N, `the outage began mid-run (${readEarly} of ${N} read)`);
      server.fallbackBehavior = {};
      const upAt = performance.now();
      while (performance.now() - upAt < 20_000) {
        const text = await prom.metrics();
        if (
          sample(
            text,
            `sluice_circuit_breaker_state${pipelineLabel},breaker="fraud-kserve",state="closed"}`,
          ) === 1
        ) {
          seen.closedAfter = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    await server.close();

    assert.equal(got.deadLetters, 0, 'no record went to the dead letters');
    assert.equal(got.summary.counters.deadLetters, 0);
    assert.equal(got.acted, N, 'every record acted on');
    const ids = new Set(got.scores.map((s) => s.id));
    assert.equal(ids.size, N, 'each record exactly once');
    assert.ok(
      got.scores.every((s) => s.score === s.id + 1000),
      'every record scored by the model itself (no fallback)',
    );
    assert.equal(got.digest, base.digest, 'the same actions as the run without the outage');
    assert.ok(got.saved.length > 0 && got.saved.at(-1) === N, `checkpoints ${got.saved.length}`);
    assert.ok(seen.open, 'the breaker showed open in /metrics during the outage');
    assert.ok(seen.lagDuringOutage > 0, `the lag showed in /metrics (${seen.lagDuringOutage})`);
    assert.ok(seen.waiting > 0, `the held records showed in /metrics (${seen.waiting})`);
    assert.ok(seen.closedAfter, 'the breaker closed again once the model was back');
    assert.ok(got.stats.breakerOpens >= 1 && got.stats.breakerCloses >= 1);
    console.log(
      `# model outage: ${N} records, 0 dead letters, breaker opened ${got.stats.breakerOpens}x, ${got.stats.breakerRejections} calls refused while open, ${got.saved.length} checkpoints, run ${Math.round(got.summary.elapsedMs)} ms (clean ${Math.round(base.summary.elapsedMs)} ms)`,
    );
  });
});
