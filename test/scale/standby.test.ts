// `sluice run --workers 2 --standby --dashboard-port 0`: the supervisor starts two workers (and
// prints their pids); each serves its /metrics; every worker tails the changelogs of the
// partitions the other owns, so when one is SIGKILLed the survivor's restore reads only the tail.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTopic, producePayments } from '../../examples/scaleout/payments.js';
import {
  APP,
  assignments,
  spawnSluice,
  startBrokerProcess,
  waitFor,
  type Event,
  type Proc,
} from './workers.js';

const PARTITIONS = 6;

describe('sluice run --workers 2 --standby', () => {
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
    const sup = spawnSluice(
      [
        'run',
        APP,
        '--workers',
        '2',
        '--member',
        'w',
        '--brokers',
        brokers,
        '--group',
        'sb',
        '--json',
        '--standby',
        '--dashboard-port',
        '0',
      ].concat(['--session-timeout-ms', '6000', '--progress-ms', '200']),
      { SCALEOUT_INPUT: 'payments' },
    );
    procs.push(sup);
    const of = (m: string): Event[] => sup.events.filter((e) => 'member' in e && e.member === m);
    await waitFor(
      () =>
        assignments(sup.events).size === 2 &&
        [...assignments(sup.events).values()].every((x) => x.length === 3),
      60_000,
      'two workers with 3 partitions each',
    );
    await producePayments({ brokers: [brokers], topic: 'payments', partitions: PARTITIONS, events: 20_000 });
    const caughtUp = (m: string) =>
      of(m).some((e) => e.event === 'progress' && e.half === 'back' && e.processed > 0 && e.lag === 0);
    await waitFor(() => caughtUp('w1') && caughtUp('w2'), 60_000, 'both workers to process their records');
    // Each worker's Prometheus endpoint shows its own share of the work.
    let scraped = 0;
    for (const m of ['w1', 'w2']) {
      const dash = sup.events.find((e) => e.event === 'dashboard' && e.member === m);
      assert.ok(dash && dash.event === 'dashboard', `${m} printed its dashboard URL`);
      const text = await (await fetch(dash.metrics)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('sluice_records_processed_total{pipeline="payments"}'));
      assert.ok(line, `${m}'s /metrics has the back half's counter`);
      scraped += Number(line.split(' ').pop());
    }
    assert.ok(scraped > 0, 'the workers report processed records');
    await new Promise((r) => setTimeout(r, 2500)); // a standby refresh after the last checkpoint
    const lost = assignments(of('w1')).get('w1')!;
    const w1 = sup.events.find((e) => e.event === 'worker' && e.member === 'w1');
    assert.ok(w1 && w1.event === 'worker', 'the supervisor printed the pid of w1');
    const before = sup.events.length; // restores from here on are the takeover's
    process.kill(w1.pid, 'SIGKILL');
    const restores = await waitFor(
      () => {
        const done = sup.events
          .slice(before)
          .filter((e) => e.event === 'restore' && e.member === 'w2' && e.done && lost.includes(e.partition));
        return done.length === lost.length ? done : undefined;
      },
      30_000,
      'the survivor to restore the lost partitions',
    );
    for (const r of restores) {
      if (r.event !== 'restore') continue;
      const warm = r.from_standby ?? 0;
      assert.ok(warm > 0, `partition ${r.partition}: the standby copy had read ${warm} records`);
      assert.ok(
        r.records - warm < warm,
        `partition ${r.partition}: only the tail was read at takeover (${r.records - warm} of ${r.records})`,
      );
    }
    sup.child.kill('SIGTERM'); // forwarded to the survivor, which checkpoints and leaves
    await sup.exited;
    assert.ok(
      of('w2').some((e) => e.event === 'stopped'),
      'the survivor stopped cleanly',
    );
  });
});
