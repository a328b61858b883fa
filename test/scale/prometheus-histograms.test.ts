// A real Prometheus (the Debian binary, on 127.0.0.1) scrapes the /metrics of two `sluice run`
// workers; the p99 it computes from the summed histogram buckets agrees with the workers' own
// HdrHistogram p99 within one bucket. This is what summaries could not do across workers.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTopic, producePayments } from '../../examples/scaleout/payments.js';
import { LATENCY_BUCKETS_SECONDS } from '../../src/observe/histogram-buckets.js';
import type { LatencySummary } from '../../src/observe/index.js';
import { noPrometheus, startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { APP, assignments, spawnSluice, startBrokerProcess, waitFor, type Proc } from './workers.js';

const PARTITIONS = 4;
const EVENTS = 10_000;
const QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(sluice_e2e_latency_seconds_bucket{pipeline="payments"}[1m])))';

/** Index of the bucket a value (seconds) falls in: the first bound at or above it (`+Inf` last). */
const bucketOf = (v: number) => {
  const i = LATENCY_BUCKETS_SECONDS.findIndex((b) => v <= b);
  return i < 0 ? LATENCY_BUCKETS_SECONDS.length : i;
};

describe('a real Prometheus sums the histograms of two sluice run workers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prom-'));
  const procs: Proc[] = [];
  let prometheus: Prometheus | undefined;
  after(() => {
    prometheus?.process.kill('SIGKILL');
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'histogram_quantile(0.99, sum by (le) (rate(…_bucket[1m]))) agrees with the run’s own p99 within one bucket',
    { skip: noPrometheus, timeout: 120_000 },
    async () => {
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
          'prom',
          '--json',
        ].concat(['--dashboard-port', '0', '--progress-ms', '200', '--session-timeout-ms', '6000']),
        { SCALEOUT_INPUT: 'payments' },
      );
      procs.push(sup);
      // What the workers said, on a failure: they are child processes.
      const withStderr = (e: Error): never => {
        throw new Error(
          `${e.message}\n${JSON.stringify(sup.events.slice(-10))}\n${sup.stderr.join('').slice(-3000)}`,
        );
      };
      await waitFor(
        () =>
          assignments(sup.events).size === 2 &&
          [...assignments(sup.events).values()].every((x) => x.length === 2),
        60_000,
        'two workers with 2 partitions each',
      ).catch(withStderr);
      const targets = ['w1', 'w2'].map((m) => {
        const d = sup.events.find((e) => e.event === 'dashboard' && e.member === m);
        assert.ok(d && d.event === 'dashboard', `${m} printed its /metrics URL`);
        return new URL(d.metrics).host;
      });

      // Prometheus scrapes both workers every second; its first scrapes come before any record.
      prometheus = await startPrometheus(dir, targets);
      const { query, log } = prometheus;
      await waitFor(
        async () => {
          try {
            const up = await query('sum(up{job="sluice"})');
            return up.length === 1 && up[0]!.value[1] === '2';
          } catch {
            return false; // not listening yet
          }
        },
        30_000,
        `Prometheus to scrape both workers (${log.join('').slice(-500)})`,
      );

      await producePayments({
        brokers: [brokers],
        topic: 'payments',
        partitions: PARTITIONS,
        events: EVENTS,
      });
      // The back half finishes each record once; Prometheus has them all once its count says so.
      const served = async () => {
        let n = 0;
        for (const t of targets) {
          const text = await (await fetch(`http://${t}/metrics`)).text();
          const line = text
            .split('\n')
            .find((l) => l.startsWith('sluice_e2e_latency_seconds_count{pipeline="payments"}'));
          n += Number(line?.split(' ').pop() ?? 0);
        }
        return n;
      };
      await waitFor(
        async () => (await served()) === EVENTS,
        60_000,
        'the workers to finish every record',
      ).catch(withStderr);
      await waitFor(
        async () => {
          const got = await query('sum(sluice_e2e_latency_seconds_count{pipeline="payments"})');
          return got.length === 1 && Number(got[0]!.value[1]) === EVENTS;
        },
        20_000,
        'Prometheus to scrape the final counts',
      );
      await new Promise((r) => setTimeout(r, 1500)); // one more scrape of the same counts
      // Each worker is alive and ready: in the group, state restored, both halves ticking, lag under the bound.
      for (const t of targets) {
        assert.equal((await fetch(`http://${t}/healthz`)).status, 200);
        const r = await fetch(`http://${t}/readyz`);
        const body = (await r.json()) as { ready: boolean; checks: { name: string; ok: boolean }[] };
        assert.equal(r.status, 200, JSON.stringify(body));
        assert.deepEqual(body.checks.map((c) => c.name).sort(), [
          'assigned',
          'lag:payments',
          'lag:payments-front',
          'restored',
          'running',
          'ticking:payments',
          'ticking:payments-front',
        ]);
      }
      const result = await query(QUERY, Date.now());
      assert.equal(result.length, 1, `one aggregated series: ${JSON.stringify(result)}`);
      const promP99 = Number(result[0]!.value[1]);
      // The query as spelled (no pipeline filter: front and back halves together), for the record.
      const both = await query(QUERY.replace('{pipeline="payments"}', ''), Date.now());
      console.log(`# without the pipeline filter (both halves): ${both[0]?.value[1]} s`);
      assert.ok(Number.isFinite(promP99) && promP99 > 0, `Prometheus p99 ${promP99}`);

      // The workers' own p99 (HdrHistogram, whole run), printed when they stop.
      sup.child.kill('SIGTERM');
      await sup.exited;
      const own: LatencySummary[] = [];
      for (const e of sup.events) if (e.event === 'stopped' && e.e2e_ms.back) own.push(e.e2e_ms.back);
      assert.equal(own.length, 2, 'both workers reported their latency');
      assert.equal(
        own.reduce((n, s) => n + s.count, 0),
        EVENTS,
        'the workers summarised the same records Prometheus scraped',
      );
      // The p99 of the two workers' records together lies between the workers' own p99s.
      const lo = Math.min(...own.map((s) => s.p99)) / 1000;
      const hi = Math.max(...own.map((s) => s.p99)) / 1000;
      console.log(
        `# ${QUERY} = ${promP99} s; the workers' own p99: ${own.map((s) => s.p99).join(' ms, ')} ms`,
      );
      assert.ok(
        bucketOf(promP99) >= bucketOf(lo) - 1 && bucketOf(promP99) <= bucketOf(hi) + 1,
        `Prometheus p99 ${promP99} s within one bucket of the run's own p99 (${lo}–${hi} s)`,
      );
    },
  );
});
