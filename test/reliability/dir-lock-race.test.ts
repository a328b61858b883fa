// Issue 20, item 1: a `.lock` naming a dead pid was taken over by both of two writers started
// together (11 of 30 trials). Two processes race for such a lock 100 times; never may both hold it.
import assert from 'node:assert/strict';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const TRIALS = 100;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-lock-race-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Reply = { ready?: boolean; held?: boolean; code?: string; released?: boolean };

function racer(): { child: ChildProcess; next: () => Promise<Reply> } {
  const child = fork(new URL('./lock-racer.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: Reply[] = [];
  const waiting: ((r: Reply) => void)[] = [];
  child.on('message', (m: Reply) => (waiting.length ? waiting.shift()!(m) : queue.push(m)));
  const next = () =>
    queue.length ? Promise.resolve(queue.shift()!) : new Promise<Reply>((r) => waiting.push(r));
  return { child, next };
}

test(
  `two writers racing for a stale directory lock: exactly one holds it (${TRIALS} trials)`,
  { timeout: 120_000 },
  async () => {
    // A pid that is certainly dead: a process that has exited and been reaped.
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    const racers = [racer(), racer()];
    after(() => racers.forEach((r) => r.child.kill()));
    for (const r of racers) assert.deepEqual(await r.next(), { ready: true });
    let doubleHolders = 0;
    let noHolder = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = join(tmp, `t${trial}`);
      mkdirSync(dir);
      writeFileSync(join(dir, '.lock'), `${deadPid}\n`); // left behind by a crashed writer
      const at = Date.now() + 15;
      for (const r of racers) r.child.send({ dir, at });
      const replies = await Promise.all(racers.map((r) => r.next()));
      const held = replies.filter((r) => r.held).length;
      if (held === 2) doubleHolders++;
      if (held === 0) noHolder++;
      for (const r of replies) if (!r.held) assert.equal(r.code, 'SLUICE_LOG_LOCKED', JSON.stringify(r));
      for (const r of racers) r.child.send({ release: true });
      await Promise.all(racers.map((r) => r.next()));
    }
    console.log(`# ${TRIALS} trials: ${doubleHolders} with two holders, ${noHolder} with none`);
    assert.equal(doubleHolders, 0, `both racers held the lock in ${doubleHolders} of ${TRIALS} trials`);
    assert.equal(noHolder, 0, `nobody got the lock in ${noHolder} of ${TRIALS} trials`);
  },
);
