import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Log } from '../../src/log/index.js';
import { seededRandom } from '../../src/core/random.js';

const job = new URL('./fixtures/windowed-job.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const EVENTS = 200_000;

/** 200,000 events over ~3 days of event time, 50 keys, jitter up to 4 s (under the 5 s bound). */
function fill(dir: string): void {
  const log = Log.open(join(dir, 'log'));
  log.createTopic('events', { partitions: 1 });
  const p = log.partition('events', 0);
  const rand = seededRandom(12345);
  for (let i = 0; i < EVENTS; i += 1000) {
    const batch = [];
    for (let j = i; j < i + 1000; j++) {
      const t = 1_700_000_000_000 + j * 1300 - Math.floor(rand() * 4000);
      batch.push({
        value: Buffer.from(
          JSON.stringify({
            k: Math.floor(rand() * 50),
            t,
            x: Math.round(rand() * 10000) / 100,
            m: Math.floor(rand() * 50),
          }),
        ),
      });
    }
    p.append(batch);
  }
  log.close();
}

function runToEnd(dir: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', job, dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('exactly-once state under kill -9', () => {
  it('a windowed pipeline killed at random points 6 times ends with the digests of an uninterrupted run', async () => {
    const clean = join(tmp, 'clean');
    fill(clean);
    const want = runToEnd(clean);
    assert.equal(want.in, EVENTS);
    assert.equal(want.late, 0);
    assert.ok(want.actions > 1000);

    const crashed = join(tmp, 'crashed');
    fill(crashed);
    const rand = seededRandom(99);
    for (let cycle = 0; cycle < 6; cycle++) {
      const child = spawn(process.execPath, ['--import', 'tsx', job, crashed], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      // Startup (tsx, LMDB, log recovery) takes ~0.5-1 s; kill anywhere in the run after it.
      await Promise.race([new Promise((r) => setTimeout(r, 700 + rand() * 1800)), exited]);
      child.kill('SIGKILL');
      await exited;
    }
    const got = runToEnd(crashed);
    assert.equal(got.actions, want.actions);
    assert.equal(got.actions_digest, want.actions_digest);
    assert.equal(got.state_digest, want.state_digest);
  });
});
