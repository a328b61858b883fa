// `sluice run` tells what to fix for the first mistakes a user makes: a missing file, a file that
// is not an ES module or exports no app, brokers that are not there.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN } from './workers.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-run-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sluice = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });
const testing = new URL('../../src/testing.js', import.meta.url).pathname;
const scale = new URL('../../src/scale.js', import.meta.url).pathname;

describe('sluice run: errors that say what to fix', () => {
  it('a missing file, a CommonJS file, a module without an app', () => {
    const missing = sluice(join(dir, 'nope.ts'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /pipeline file .*nope\.ts does not exist/);

    const cjs = join(dir, 'app.ts'); // no package.json with "type": "module" around it
    writeFileSync(cjs, `export const x = 1;\n`);
    const notEsm = sluice(cjs);
    assert.equal(notEsm.status, 2);
    assert.match(notEsm.stderr, /cannot load .*app\.ts: .*it must be an ES module/);

    const noApp = join(dir, 'app.mts');
    writeFileSync(noApp, `export const x = 1;\n`);
    const r = sluice(noApp);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /must default-export scaledApp\(\{ name, input, build \}\)/);
  });

  it('brokers that are not there', () => {
    const app = join(dir, 'ok.mts');
    writeFileSync(
      app,
      `import { collect } from '${testing}';\nimport { scaledApp } from '${scale}';\nexport default scaledApp({ name: 'x', input: 'in', build: (s) => s.to(collect()) });\n`,
    );
    const r = sluice(app, '--brokers', '127.0.0.1:1');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /cannot reach the brokers 127\.0\.0\.1:1: is Kafka \(or sluice broker\) running there\?/,
    );
  });
});
