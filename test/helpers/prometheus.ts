// A real Prometheus (the Debian binary, on 127.0.0.1) for the tests that check what it makes of
// Sluice's /metrics: started on a free port, scraping the given targets every second.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandExists, freePort, needService } from './services.js';

/** The `skip` option of a test that needs the prometheus binary (see needService). */
export const noPrometheus = await needService('prometheus (Debian package prometheus)', () =>
  commandExists('prometheus', ['--version']),
);

/** One series of an instant query's answer. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  /** Runs an instant query (at `timeMs`, default Prometheus's now); fails the test unless it succeeds. */
  query(q: string, timeMs?: number): Promise<PromSample[]>;
  /** What Prometheus wrote to stderr so far. */
  readonly log: string[];
  readonly process: ChildProcess;
}

/**
 * Starts Prometheus scraping `targets` (host:port of /metrics) every second, its config and TSDB
 * in `dir`; kill `process` when done. It answers queries a moment after this returns: poll.
 *
 * @example
 * const prom = await startPrometheus(dir, ['127.0.0.1:9464']);
 * await waitFor(async () => (await prom.query('up').catch(() => [])).length > 0, 30_000, 'scrapes');
 */
export async function startPrometheus(dir: string, targets: readonly string[]): Promise<Prometheus> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: sluice\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`,
  );
  const log: string[] = [];
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (c: Buffer) => log.push(c.toString()));
  const api = `http://127.0.0.1:${port}/api/v1`;
  return {
    log,
    process: child,
    async query(q, timeMs) {
      const at = timeMs === undefined ? '' : `&time=${timeMs / 1000}`;
      const r = await fetch(`${api}/query?query=${encodeURIComponent(q)}${at}`);
      const body = (await r.json()) as { status: string; error?: string; data: { result: PromSample[] } };
      assert.equal(body.status, 'success', `${q}: ${body.error ?? JSON.stringify(body)}`);
      return body.data.result;
    },
  };
}
