import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-obs-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const demo = (args: string[]) =>
  spawnSync(process.execPath, [bin, 'demo', 'fraud', '--events', '3000', '--json', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('sluice demo fraud: dashboard and SLO flags', () => {
  it('starts the dashboard on a free port by default, printed on stderr; stdout stays one JSON line', () => {
    const r = demo(['--data', join(tmp, 'a'), '--slo', 'e2e=e2e_p99_ms<10000@30s']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(Prometheus: http:\/\/127\.0\.0\.1:\d+\/metrics\)$/m,
    );
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]!).processed, 3000);
  });

  it('--no-dashboard runs without a server', () => {
    const r = demo(['--data', join(tmp, 'b'), '--no-dashboard', '--no-slo']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /dashboard:/);
  });

  it('rejects bad dashboard and SLO flags with a usage error', () => {
    for (const [args, msg] of [
      [['--dashboard-port', '70000'], /--dashboard-port must be an integer from 0 to 65535/],
      [['--no-dashboard', '--dashboard-port', '8080'], /exclude each other/],
      [['--slo', 'p99<3'], /--slo: unknown SLO metric "p99"/],
      [['--slo', 'lag<3', '--no-slo'], /exclude each other/],
    ] as const) {
      const r = demo([...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });
});
