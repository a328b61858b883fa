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
  type Envelope,
  type Source,
} from '../../src/index.js';
import { ActionLedger } from '../../src/actions/index.js';
import { startKServeServer } from '../inference/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-faults-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A source that hands out `n` records, `per` every `everyMs`, so the run spans the fault phases. */
function pacedSource(n: number, per: number, everyMs: number): Source<number> {
  let next = 0;
  return {
    name: 'paced',
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

describe('inference faults suite', () => {
  it('a remote model that gets slow, fails, hangs, drops connections and comes back: fallbacks while the breaker is open, recovery on its own, every record acted on once', async () => {
    const server = await startKServeServer('fraud', 3);
    const remote = await KServeModel.connect({ url: server.url, model: 'fraud' });
    const model = withResilience(remote, {
      timeoutMs: 150,
      retry: { maxRetries: 1, initialDelayMs: 10, maxDelayMs: 20 },
      breaker: { kind: 'consecutive', failures: 3, halfOpenAfterMs: 250 },
      fallback: { value: -1 },
    });
    // Fault phases, by time since start (ms).
    const phases: [number, Parameters<typeof Object.assign>[1]][] = [
      [0, {}],
      [400, { delayMs: 60 }],
      [900, { status: 500 }],
      [1500, { delayMs: 10_000 }],
      [2100, { drop: true }],
      [2700, {}],
    ];
    const timers = phases.map(([at, b]) => setTimeout(() => (server.fallbackBehavior = b), at));
    const N = 4000;
    const ledger = ActionLedger.open(join(tmp, 'scores.jsonl'));
    const run = pipeline('faults')
      .from(pacedSource(N, 25, 20))
      // 'fallback': the outage is answered by the resilience fallback (the default, 'wait', would
      // hold the batches until the model is back: see model-outage.test.ts).
      .infer(model, {
        width: 3,
        input: (i) => [i, 0, 0],
        output: (i, row) => ({ id: i, score: row[0]! }),
        onUnavailable: 'fallback',
      })
      .to(action({ name: 'score', ledger, payload: (s) => s }))
      .run();
    const summary = await run.done;
    timers.forEach(clearTimeout);
    const stats = model.stats();
    await model.close();
    await server.close();

    assert.equal(summary.counters.processed, N);
    assert.equal(summary.counters.deadLetters, 0, 'failures fell back instead of dropping records');
    assert.equal(ledger.size, N, 'every record acted on exactly once');
    const entries = [...ledger.entries()].map((e) => e.payload as { id: number; score: number });
    const fallbacks = entries.filter((e) => e.score === -1).length;
    assert.ok(fallbacks > 0, 'some records were scored by the fallback');
    assert.ok(
      entries.filter((e) => e.id > N - 500).every((e) => e.score === e.id + 1000),
      'after recovery the model answers again (version 2 adds 1000)',
    );
    assert.ok(stats.timeouts > 0, `timeouts ${stats.timeouts}`);
    assert.ok(
      stats.breakerOpens >= 1 && stats.breakerCloses >= 1,
      `breaker opened ${stats.breakerOpens}x, closed ${stats.breakerCloses}x`,
    );
    assert.ok(stats.breakerRejections > 0, 'calls were refused fast while open');
    assert.equal(stats.circuit, 'closed');
    ledger.close();
    console.log(
      `# inference faults: ${N} records, ${fallbacks} by fallback, timeouts ${stats.timeouts}, retries ${stats.retries}, breaker opened ${stats.breakerOpens}x / closed ${stats.breakerCloses}x`,
    );
  });
});
