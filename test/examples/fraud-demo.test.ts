import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runFraudDemo } from '../../src/apps/fraud/demo.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/sluice.js');
const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function demo(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'demo', 'fraud', '--json', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON line on stdout');
  return JSON.parse(lines[0]!);
}

describe('sluice demo fraud', () => {
  it('prints the JSON summary with every record accounted for, and resumes instead of starting over', () => {
    const data = join(tmp, 'small');
    const r = demo(['--events', '20000', '--seed', '7', '--data', data, '--bad-rate', '0.01']);
    for (const k of [
      'events_in',
      'processed',
      'actions',
      'dead_letters',
      'throughput_eps',
      'actions_digest',
      'quality',
    ])
      assert.ok(k in r, `missing ${k}`);
    assert.equal(r.events_in, 20000);
    assert.equal(r.processed + r.dead_letters, r.events_in);
    assert.ok(r.dead_letters > 100 && r.dead_letters < 350, `dead letters: ${r.dead_letters}`);
    assert.ok(r.actions > 0);
    assert.match(r.actions_digest, /^[0-9a-f]{64}$/);
    for (const s of ['decode', 'features', 'infer'])
      assert.ok(r.latency_ms.stages[s].p99 >= r.latency_ms.stages[s].p50, s);
    assert.ok(r.latency_ms.e2e.max >= r.latency_ms.e2e.p99 && r.latency_ms.e2e.p99 > 0);
    const again = demo(['--events', '20000', '--seed', '7', '--data', data, '--bad-rate', '0.01']);
    assert.equal(again.resumed, true);
    assert.equal(again.actions_digest, r.actions_digest);
    assert.equal(again.processed + again.dead_letters, 20000);
    // More events on the same data dir continue the same stream.
    const more = demo(['--events', '25000', '--seed', '7', '--data', data, '--bad-rate', '0.01']);
    assert.equal(more.events_in, 25000);
    assert.equal(more.processed + more.dead_letters, 25000);
  });

  it('refuses to mix two streams in one data dir, saying what to do', () => {
    const data = join(tmp, 'mix');
    demo(['--events', '1000', '--seed', '1', '--data', data]);
    const r = spawnSync(
      process.execPath,
      [bin, 'demo', 'fraud', '--events', '1000', '--seed', '2', '--data', data],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /holds a run with seed=1, not 2: use the same value to resume, or another --data/);
  });

  it('rejects bad flags with a usage error', () => {
    const r = spawnSync(process.execPath, [bin, 'demo', 'fraud', '--events', 'lots'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--events must be an integer/);
  });

  it('gives the same actions digest after kill -9 and restart as an uninterrupted run', async () => {
    const args = ['--events', '60000', '--seed', '11'];
    const clean = demo([...args, '--data', join(tmp, 'clean')]);
    const data = join(tmp, 'killed');
    for (let cycle = 0; cycle < 2; cycle++) {
      const child = spawn(
        process.execPath,
        [bin, 'demo', 'fraud', '--rate', '15000', ...args, '--data', data],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const exited = new Promise((r) => child.once('exit', r));
      // Kill mid-stream, after 2-3 progress lines (a checkpoint is saved every second).
      const lines = 2 + cycle;
      await new Promise<void>((resolve) => {
        let seen = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if ((seen.match(/processed [\d,]+\//g) ?? []).length >= lines) resolve();
        });
        void exited.then(() => resolve());
      });
      child.kill('SIGKILL');
      await exited;
    }
    const resumed = demo([...args, '--data', data]);
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.events_in, 60000);
    assert.equal(resumed.processed + resumed.dead_letters, 60000);
    assert.equal(resumed.actions, clean.actions);
    assert.equal(resumed.actions_digest, clean.actions_digest);
  });

  it('scores usefully: ROC-AUC >= 0.85 and AP >= 0.5 after warm-up on 200k events', async () => {
    const r = await runFraudDemo({ events: 200_000, dataDir: join(tmp, 'quality') });
    assert.equal(r.processed + r.dead_letters, 200_000);
    assert.ok(r.quality.roc_auc! >= 0.85, `ROC-AUC ${r.quality.roc_auc}`);
    assert.ok(r.quality.average_precision! >= 0.5, `AP ${r.quality.average_precision}`);
    assert.ok(r.quality.evaluated > 100_000);
  });
});
