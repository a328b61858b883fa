// docs/grafana/sluice.json: every query of the importable dashboard runs against a real
// Prometheus (the Debian binary, on 127.0.0.1) scraping `sluice run` workers of a pipeline with
// a model behind a circuit breaker, an SLO and some bad records, and returns data.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { createTopic, producePayments } from '../../examples/scaleout/payments.js';
import { noPrometheus, startPrometheus, type Prometheus } from '../helpers/prometheus.js';
import { spawnSluice, startBrokerProcess, waitFor, type Proc } from '../scale/workers.js';

const APP = fileURLToPath(new URL('./fixtures/scored-payments.ts', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../../docs/grafana/sluice.json', import.meta.url));
const EVENTS = 4000;
const BAD = 20;

interface Panel {
  title: string;
  targets: { expr: string; refId: string }[];
}

/** The dashboard's variables as Grafana fills them in: every pipeline, a 1-minute rate window. */
const filled = (expr: string) => expr.replaceAll('$pipeline', '.*').replaceAll('$__rate_interval', '1m');

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string }[] };
  };

  it('is an importable dashboard whose queries name only metrics Sluice exports', async () => {
    const { PrometheusExporter, Observer } = await import('../../src/observe/index.js');
    assert.ok(PrometheusExporter && Observer);
    const source = readFileSync(new URL('../../src/observe/prometheus-metrics.ts', import.meta.url), 'utf8');
    const exported = new Set([...source.matchAll(/'(sluice_[a-z_]+)'/g)].map((m) => m[1]!));
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['datasource', 'pipeline'],
    );
    for (const p of dashboard.panels)
      for (const t of p.targets)
        for (const [, name] of t.expr.matchAll(/\b(sluice_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?=[{\s[)])/g))
          assert.ok(exported.has(name!), `${p.title}: ${name} is not a metric Sluice exports`);
    const titles = dashboard.panels.map((p) => p.title).join(' | ');
    for (const needed of [
      'Throughput',
      'lag',
      'End-to-end',
      'Stage latency',
      'Dead letters',
      'breakers',
      'Checkpoints',
      'SLO',
    ])
      assert.match(titles, new RegExp(needed), `a panel about ${needed}`);
  });

  const dir = mkdtempSync(join(tmpdir(), 'sluice-grafana-'));
  const procs: Proc[] = [];
  let prometheus: Prometheus | undefined;
  after(() => {
    prometheus?.process.kill('SIGKILL');
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'every panel query returns data from a real Prometheus scraping sluice run',
    { skip: noPrometheus, timeout: 150_000 },
    async () => {
      const broker = await startBrokerProcess(join(dir, 'broker'), 2);
      procs.push(broker.proc);
      await createTopic([broker.address], 'payments', 2);
      const sup = spawnSluice(
        [
          'run',
          APP,
          '--workers',
          '2',
          '--member',
          'g',
          '--brokers',
          broker.address,
          '--group',
          'grafana',
          '--json',
        ].concat([
          '--dashboard-port',
          '0',
          '--progress-ms',
          '200',
          '--session-timeout-ms',
          '6000',
          '--slo',
          'e2e-p99=e2e_p99_ms<60000@1m',
        ]),
        { SCALEOUT_INPUT: 'payments' },
      );
      procs.push(sup);
      const targets = await waitFor(
        () => {
          const urls = sup.events.flatMap((e) => (e.event === 'dashboard' ? [new URL(e.metrics).host] : []));
          return urls.length === 2 ? urls : undefined;
        },
        60_000,
        'both workers to serve /metrics',
      ).catch((e: Error) => assert.fail(`${e.message}\n${sup.stderr.join('').slice(-2000)}`));

      prometheus = await startPrometheus(dir, targets);
      const prom = prometheus;
      const query = (q: string) => prom.query(q, Date.now());

      await producePayments({ brokers: [broker.address], topic: 'payments', partitions: 2, events: EVENTS });
      // Records that do not decode: the dead-letter panel needs some.
      const producer = new Producer({ clientId: 'bad', bootstrapBrokers: [broker.address] });
      await producer.send({
        messages: Array.from({ length: BAD }, (_, i) => ({
          topic: 'payments',
          partition: i % 2,
          value: Buffer.from('{not json'),
        })),
      });
      await producer.close();
      await waitFor(
        async () => {
          try {
            // The front half reads the topic (and dead-letters the bad records); the back half the rest.
            const count = async (pipeline: string) => {
              const r = await query(`sum(sluice_records_in_total{pipeline="${pipeline}"})`);
              return r.length === 1 ? Number(r[0]!.value[1]) : 0;
            };
            return (await count('scored-front')) >= EVENTS + BAD && (await count('scored')) >= EVENTS;
          } catch {
            return false; // Prometheus not up yet
          }
        },
        60_000,
        'Prometheus to see every record',
      ).catch(async (e: Error) =>
        assert.fail(
          `${e.message}: ${JSON.stringify(await query('sum by (pipeline) (sluice_records_in_total)'))}\n${sup.stderr.join('').slice(-2000)}\n${JSON.stringify(sup.events.slice(-6))}`,
        ),
      );
      // Rates need two samples after the counts moved, and end-to-end latency (hence the SLO's
      // value) is recorded only when the back half's sink commits, at a checkpoint that may come
      // a few seconds after the records were counted in on a loaded machine: ask again until
      // every query has data, for at most 30 s.
      const emptyQueries = async () => {
        const empty: string[] = [];
        for (const p of dashboard.panels)
          for (const t of p.targets) {
            const result = await query(filled(t.expr));
            if (result.length === 0) empty.push(`${p.title} [${t.refId}]: ${t.expr}`);
          }
        return empty;
      };
      let empty = await emptyQueries();
      for (const deadline = Date.now() + 30_000; empty.length > 0 && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 1000));
        empty = await emptyQueries();
      }
      assert.deepEqual(empty, [], 'queries that returned no data');
      console.log(
        `# ${dashboard.panels.length} panels, ${dashboard.panels.reduce((n, p) => n + p.targets.length, 0)} queries, each with data`,
      );
    },
  );
});
