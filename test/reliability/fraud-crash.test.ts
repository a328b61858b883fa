import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rng } from '../helpers/random.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-reliability-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ARGS = ['--events', '60000', '--seed', '3', '--bad-rate', '0.002', '--no-dashboard', '--no-slo'];
const CYCLES = 20;

function finish(dir: string) {
  const r = spawnSync(process.execPath, [bin, 'demo', 'fraud', '--json', ...ARGS, '--data', dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim());
}

describe('crash suite: sluice demo fraud under SIGKILL', () => {
  it(`${CYCLES} seeded kill -9 cycles (producing, processing, checkpointing, acting) end exactly like an uninterrupted run`, async () => {
    const clean = finish(join(tmp, 'clean'));
    assert.equal(clean.processed + clean.dead_letters, 60000);
    const dir = join(tmp, 'killed');
    const rand = rng(2026);
    const kills: number[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Paced so that the stream spans many cycles: producing and processing overlap.
      const child = spawn(
        process.execPath,
        [bin, 'demo', 'fraud', '--quiet', '--rate', '4000', ...ARGS, '--data', dir],
        { stdio: 'ignore' },
      );
      const exited = new Promise((r) => child.once('exit', r));
      // Start-up (tsx, model, LMDB, log recovery) takes about 2 s: kill 0.3-3 s into the run.
      const at = 2300 + Math.floor(rand() * 2700);
      kills.push(at);
      await Promise.race([new Promise((r) => setTimeout(r, at)), exited]);
      child.kill('SIGKILL');
      await exited;
    }
    const got = finish(dir);
    const context = `kill times (ms after start): ${kills.join(', ')}`;
    assert.equal(got.resumed, true, context);
    assert.equal(got.events_in, 60000, context);
    assert.equal(got.processed + got.dead_letters, 60000, context);
    assert.equal(got.dead_letters, clean.dead_letters, context);
    assert.equal(got.actions, clean.actions, context);
    assert.equal(got.actions_digest, clean.actions_digest, context);
    assert.equal(got.state_digest, clean.state_digest, context);
  });
});
