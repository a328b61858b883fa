// --standby: every worker tails the changelogs of the partitions others own, so when one dies
// the survivor's restore reads only the changelog's tail.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTopic, producePayments } from '../../examples/scaleout/payments.js';
import { APP, assignments, spawnSluice, startBrokerProcess, waitFor, type Proc } from './workers.js';

const PARTITIONS = 6;

describe('sluice run --standby', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-standby-'));
  const procs: Proc[] = [];
  after(() => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores a dead worker’s partitions from warm copies', { timeout: 120_000 }, async () => {
    const broker = await startBrokerProcess(join(dir, 'broker'), PARTITIONS);
    procs.push(broker.proc);
    const brokers = broker.address;
    await createTopic([brokers], 'payments', PARTITIONS);
    const start = (m: string) => {
      const p = spawnSluice(
        [
          'run',
          APP,
          '--brokers',
          brokers,
          '--group',
          'sb',
          '--member',
          m,
          '--json',
          '--standby',
          '--session-timeout-ms',
          '6000',
          '--progress-ms',
          '200',
        ],
        { SCALEOUT_INPUT: 'payments' },
      );
      procs.push(p);
      return p;
    };
    const [a, b] = [start('a'), start('b')];
    await waitFor(
      () =>
        assignments([...a.events, ...b.events]).size === 2 &&
        [...assignments([...a.events, ...b.events]).values()].every((x) => x.length === 3),
      60_000,
      'two workers with 3 partitions each',
    );
    await producePayments({ brokers: [brokers], topic: 'payments', partitions: PARTITIONS, events: 20_000 });
    const backDone = (p: Proc) =>
      p.events.some((e) => e.event === 'progress' && e.half === 'back' && e.processed > 0 && e.lag === 0);
    await waitFor(() => backDone(a) && backDone(b), 60_000, 'both workers to process their records');
    await new Promise((r) => setTimeout(r, 2500)); // a standby refresh after the last checkpoint
    const lost = assignments(a.events).get('a')!;
    a.child.kill('SIGKILL');
    const restores = await waitFor(
      () => {
        const done = b.events.filter((e) => e.event === 'restore' && e.done && lost.includes(e.partition));
        return done.length === lost.length ? done : undefined;
      },
      30_000,
      'the survivor to restore the lost partitions',
    );
    for (const r of restores) {
      if (r.event !== 'restore') continue;
      assert.ok(
        (r.from_standby ?? 0) > 0,
        `partition ${r.partition}: the standby copy had read ${r.from_standby} records`,
      );
      assert.ok(
        r.records - r.from_standby! < r.from_standby!,
        `partition ${r.partition}: only the tail was read at takeover (${r.records - r.from_standby!} of ${r.records})`,
      );
    }
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
  });
});
