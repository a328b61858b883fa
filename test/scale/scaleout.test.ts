// The scale-out promise, end to end with real processes: `sluice broker` with 6 partitions, the
// example payments app on 3 `sluice run` workers (actions into Postgres, deduplicated on their
// idempotency keys), one worker SIGKILLed mid-run: its partitions move to the others, whose
// state comes back from the changelog, and the actions equal a single worker's run exactly.
// Then a worker joins and partitions move to it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open as openLmdb } from 'lmdb';
import pg from 'pg';
import { createTopic, producePayments } from '../../examples/scaleout/payments.js';
import { needService, portOpen } from '../helpers/services.js';
import {
  APP,
  PG_URL,
  assignments,
  spawnSluice,
  startBrokerProcess,
  tableDigest,
  waitFor,
  type Proc,
} from './workers.js';

const PARTITIONS = 6;
const EVENTS = 40_000; // produced in two halves: before and after the kill
const skip = await needService('postgres on 5432', () => portOpen(5432));

describe('sluice run --workers: scale out over a consumer group', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-scale-'));
  const procs: Proc[] = [];
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const tag = `${process.pid}`;
  after(async () => {
    if (process.env.SCALE_DEBUG) for (const p of procs) console.log(p.stderr.join('').slice(-3000));
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await pool.query(`DROP TABLE IF EXISTS scale_ref_${tag}, scale_multi_${tag}`).catch(() => {});
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const workers = (group: string, table: string, args: string[]): Proc => {
    const p = spawnSluice(
      [
        'run',
        APP,
        '--brokers',
        brokers,
        '--group',
        group,
        '--json',
        '--progress-ms',
        '200',
        '--session-timeout-ms',
        '6000',
        ...args,
      ],
      { SCALEOUT_ACTIONS: `${PG_URL}?table=${table}`, SCALEOUT_INPUT: 'payments' },
    );
    procs.push(p);
    return p;
  };
  let brokers = '';

  it(
    'gives the same actions on 3 workers with one SIGKILLed as on one worker',
    { timeout: 240_000 },
    async () => {
      const broker = await startBrokerProcess(join(dir, 'broker'), PARTITIONS);
      procs.push(broker.proc);
      brokers = broker.address;
      const produce = (from: number) =>
        producePayments({
          brokers: [brokers],
          topic: 'payments',
          partitions: PARTITIONS,
          events: EVENTS / 2,
          seed: from + 1,
          first: from,
        });
      await createTopic([brokers], 'payments', PARTITIONS);
      // 3 workers, one process each (so one can be killed alone).
      // w2 and w3 keep their state in local LMDB databases (--data), w1 in memory: both kinds
      // take over a dead worker's partitions.
      const stateDir = join(dir, 'state');
      const multi = ['w1', 'w2', 'w3'].map((m) =>
        workers('multi', `scale_multi_${tag}`, ['--member', m, ...(m === 'w1' ? [] : ['--data', stateDir])]),
      );
      const all = () => multi.flatMap((p) => p.events);
      await waitFor(
        () => assignments(all()).size === 3 && [...assignments(all()).values()].every((a) => a.length === 2),
        60_000,
        '3 workers with 2 partitions each',
      );
      await produce(0);
      // Throughput spreads: each worker processes records in its back half.
      await waitFor(
        () =>
          multi.every((p) =>
            p.events.some((e) => e.event === 'progress' && e.half === 'back' && e.processed > 0),
          ),
        60_000,
        'every worker to process records',
      );
      const victim = multi[0]!;
      const lost = assignments(victim.events).get('w1')!;
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      const survivors = multi.slice(1);
      const seenBefore = survivors.map((p) => p.events.length);
      await produce(EVENTS / 2);

      // Its partitions move to the survivors within the session timeout (+ a rebalance), and are
      // restored from the changelog there.
      const restores = await waitFor(
        () => {
          const since = survivors.flatMap((p, i) => p.events.slice(seenBefore[i]));
          const owned = [...assignments(survivors.flatMap((p) => p.events)).values()].flat();
          const done = since.filter((e) => e.event === 'restore' && e.done && lost.includes(e.partition));
          return owned.length === PARTITIONS && done.length >= lost.length ? done : undefined;
        },
        30_000,
        `partitions ${lost} to move to the survivors and be restored`,
      );
      const movedAfterMs = Date.now() - killedAt;
      assert.ok(
        restores.some((e) => e.event === 'restore' && e.records > 0),
        'the restored changelog held state',
      );

      // Single-worker reference run over the same input.
      const ref = workers('ref', `scale_ref_${tag}`, ['--member', 'solo']);
      const refDone = await waitFor(
        async () => {
          const last = [...ref.events].reverse().find((e) => e.event === 'progress' && e.half === 'back');
          const front = [...ref.events].reverse().find((e) => e.event === 'progress' && e.half === 'front');
          return last &&
            front &&
            front.event === 'progress' &&
            front.processed === EVENTS &&
            last.event === 'progress' &&
            last.lag === 0 &&
            last.processed === EVENTS
            ? await tableDigest(pool, `scale_ref_${tag}`)
            : undefined;
        },
        120_000,
        'the single worker to process everything',
      );
      ref.child.kill('SIGTERM');
      assert.ok(refDone.rows > 100, `the reference run did ${refDone.rows} actions`);

      const multiDone = await waitFor(
        async () => {
          const d = await tableDigest(pool, `scale_multi_${tag}`);
          return d.rows >= refDone.rows ? d : undefined;
        },
        120_000,
        'the survivors to catch up',
      );
      assert.equal(multiDone.rows, refDone.rows, 'same number of actions');
      assert.equal(multiDone.digest, refDone.digest, 'same actions_digest as one worker');

      // A worker joins: partitions move to it.
      const late = workers('multi', `scale_multi_${tag}`, ['--member', 'w4']);
      await waitFor(
        () => {
          const owners = assignments([...survivors, late].flatMap((p) => p.events));
          const owned = [...owners.values()].flat();
          return (
            (owners.get('w4')?.length ?? 0) > 0 &&
            owned.length === PARTITIONS &&
            new Set(owned).size === PARTITIONS
          );
        },
        30_000,
        'the new worker to get partitions, each partition owned once',
      );
      // Nothing done twice or lost through the second rebalance either.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await tableDigest(pool, `scale_multi_${tag}`)).digest, refDone.digest);
      for (const p of [...survivors, late]) p.child.kill('SIGTERM');
      const codes = await Promise.all([...survivors, late].map((p) => p.exited));
      assert.deepEqual(
        codes,
        [0, 0, 0],
        `workers exit cleanly on SIGTERM: ${[...survivors, late].map((p) => p.stderr.join('')).join('\n')}`,
      );
      // The LMDB-backed workers' state really is in their databases.
      const db = openLmdb({ path: join(stateDir, 'w2'), maxDbs: 2, readOnly: true });
      const state = db.openDB({ name: 'state', encoding: 'msgpack', keyEncoding: 'ordered-binary' });
      const cards = [...state.getKeys()].filter((k) => (k as unknown[])[1] === 'features/card').length;
      await db.close();
      assert.ok(cards > 0, `w2's local database holds its cards' windows (${cards} keys)`);
      console.log(
        `# partitions moved ${movedAfterMs} ms after the kill; ${refDone.rows} actions, digest ${refDone.digest.slice(0, 16)}`,
      );
    },
  );
});
