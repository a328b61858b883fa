import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandExists, needService } from '../helpers/services.js';
import { run } from '../broker/processes.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-security-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const SECRET = 'sEcReT-7f3a9c';
const WRONG = 'wRoNg-2b8e1d';

describe('security suite', () => {
  it(
    'sluice broker with SASL: binds 127.0.0.1 by default, refuses strangers, and never logs a password',
    { timeout: 120_000, skip: noKcat },
    async () => {
      const child = spawn(process.execPath, [bin, 'broker', '--port', '0', '--data', join(tmp, 'broker')], {
        env: { ...process.env, SLUICE_BROKER_USERS: `alice:${SECRET}`, SLUICE_LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const started = Date.now();
      while (!/listening on/.test(output) && Date.now() - started < 30_000)
        await new Promise((r) => setTimeout(r, 50));
      const address = /listening on (\S+)/.exec(output)![1]!;
      assert.match(address, /^127\.0\.0\.1:\d+$/, 'loopback unless told otherwise');
      const sasl = (password: string) => [
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        'sasl.mechanisms=PLAIN',
        '-X',
        'sasl.username=alice',
        '-X',
        `sasl.password=${password}`,
      ];
      const anon = await run('kcat', ['-b', address, '-L', '-m', '3'], { timeoutMs: 30_000 });
      assert.notEqual(anon.code, 0, 'no credentials: refused');
      const wrong = await run('kcat', ['-b', address, '-L', '-m', '3', ...sasl(WRONG)], {
        timeoutMs: 30_000,
      });
      assert.notEqual(wrong.code, 0, 'wrong password: refused');
      const right = await run('kcat', ['-b', address, '-L', '-m', '5', ...sasl(SECRET)], {
        timeoutMs: 30_000,
      });
      assert.equal(right.code, 0, right.stderr);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      assert.ok(!output.includes(SECRET), 'the configured password is never printed');
      assert.ok(!output.includes(WRONG), 'a client-supplied password is never printed');
    },
  );

  it(
    'URLs with passwords, malformed or unreachable, are never echoed with their password',
    { timeout: 120_000 },
    () => {
      const cases = [
        ['--from', `nats://u:${SECRET}@127.0.0.1:1/tx`, /natsSource nats:\/\/\*\*\*@127\.0\.0\.1:1 /],
        ['--alerts-to', `postgres://u:${SECRET}/x@h:bad/db`, /"postgres:\/\/\*\*\*@h:bad\/db" is not a URL/],
        ['--alerts-to', `kafka://u:${SECRET}@h`, /sink URL "kafka:\/\/\*\*\*@h"/],
      ] as const;
      for (const [flag, url, shown] of cases) {
        const r = spawnSync(
          process.execPath,
          [
            bin,
            'demo',
            'fraud',
            '--events',
            '10',
            '--no-dashboard',
            '--no-slo',
            '--data',
            join(tmp, 'urls'),
            flag,
            url,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, shown);
        assert.ok(
          !`${r.stdout}${r.stderr}`.includes(SECRET),
          `${flag} ${url}: the password is printed: ${r.stderr}`,
        );
      }
    },
  );
});
