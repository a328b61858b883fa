// `sluice run --data DIR`: a worker restarted on the same data dir reads only the changelog's
// tail (its local state goes on from where it claimed the partitions), and its actions equal
// those of a worker that never stopped.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createTopic, producePayments } from '../../examples/scaleout/payments.js';
import { needService, portOpen } from '../helpers/services.js';
import {
  APP,
  PG_URL,
  spawnSluice,
  startBrokerProcess,
  tableDigest,
  waitFor,
  type Event,
  type Proc,
} from './workers.js';

const PARTITIONS = 6;
const skip = await needService('postgres on 5432', () => portOpen(5432));

/** Whether a worker's back half has finished `n` records since its start, with nothing left. */
const finished = (events: Event[], n: number) =>
  events.some((e) => e.event === 'progress' && e.half === 'back' && e.processed >= n && e.lag === 0);

describe('sluice run --data: a restart reads only the changelog tail', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
  const procs: Proc[] = [];
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const tag = `${process.pid}`;
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await pool.query(`DROP TABLE IF EXISTS restart_a_${tag}, restart_ref_${tag}`).catch(() => {});
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes from local state and acts like an uninterrupted worker', { timeout: 180_000 }, async () => {
    const broker = await startBrokerProcess(join(dir, 'broker'), PARTITIONS);
    procs.push(broker.proc);
    const brokers = broker.address;
    await createTopic([brokers], 'payments', PARTITIONS);
    const worker = (group: string, table: string, extra: string[]) => {
      const p = spawnSluice(
        ['run', APP, '--brokers', brokers, '--group', group, '--json', '--progress-ms', '200', ...extra],
        { SCALEOUT_ACTIONS: `${PG_URL}?table=${table}`, SCALEOUT_INPUT: 'payments' },
      );
      procs.push(p);
      return p;
    };
    const data = join(dir, 'data');
    await producePayments({ brokers: [brokers], topic: 'payments', partitions: PARTITIONS, events: 20_000 });
    const first = worker('rs', `restart_a_${tag}`, ['--member', 'a', '--data', data]);
    await waitFor(() => finished(first.events, 20_000), 90_000, 'the first run to process 20,000 payments');
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    await producePayments({
      brokers: [brokers],
      topic: 'payments',
      partitions: PARTITIONS,
      events: 10_000,
      seed: 2,
      first: 20_000,
    });
    const second = worker('rs', `restart_a_${tag}`, ['--member', 'a', '--data', data]);
    await waitFor(
      () => finished(second.events, 10_000),
      90_000,
      'the restarted run to process the 10,000 new payments',
    );
    const restores = second.events.filter((e) => e.event === 'restore' && e.done);
    assert.equal(restores.length, PARTITIONS);
    for (const r of restores) {
      if (r.event !== 'restore') continue;
      assert.ok(
        (r.resumed_at ?? 0) > 0,
        `partition ${r.partition} resumed from local state (at ${r.resumed_at})`,
      );
    }
    const tailRead = restores.reduce((n, e) => n + (e.event === 'restore' ? e.records : 0), 0);
    const changelog = restores.reduce((n, e) => n + (e.event === 'restore' ? e.of : 0), 0);
    assert.ok(
      tailRead * 2 < changelog,
      `the restart read ${tailRead} of the changelog's ${changelog} records (a first start reads them all)`,
    );
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);

    const ref = worker('ref', `restart_ref_${tag}`, ['--member', 'r']);
    await waitFor(() => finished(ref.events, 30_000), 90_000, 'the reference run to process all 30,000');
    ref.child.kill('SIGTERM');
    await ref.exited;
    const [a, b] = [
      await tableDigest(pool, `restart_a_${tag}`),
      await tableDigest(pool, `restart_ref_${tag}`),
    ];
    assert.ok(b.rows > 0);
    assert.deepEqual(a, b, 'same actions as a worker that never stopped');
    console.log(
      `# restart read ${tailRead} of ${changelog} changelog records; ${a.rows} actions, digest ${a.digest.slice(0, 16)}`,
    );
  });
});
