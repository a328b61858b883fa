import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FraudModelInfo } from '../../src/apps/fraud/model-info.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-train-out-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// The smallest generated history that still has frauds in its training days (~2 s).
const SMALL = ['--days', '65', '--customers', '200', '--terminals', '400'];
const sluice = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/sluice.js'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
const md5 = (path: string) => createHash('md5').update(readFileSync(path)).digest('hex');
const shipped = ['model.onnx', 'model.json'].map((f) => join(root, 'examples', 'fraud', f));

describe('sluice train fraud: where it writes', () => {
  it('without --out: ./fraud-model.onnx and its card in the working directory, never the shipped model', () => {
    const before = shipped.map(md5);
    const p = sluice(tmp, 'train', 'fraud', ...SMALL);
    assert.equal(p.status, 0, p.stderr);
    const model = join(tmp, 'fraud-model.onnx');
    const card = join(tmp, 'fraud-model.json');
    assert.ok(existsSync(model), p.stderr);
    assert.deepEqual(JSON.parse(readFileSync(card, 'utf8')), JSON.parse(p.stdout) as FraudModelInfo);
    assert.match(p.stderr, new RegExp(`wrote ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The demo's validated default (the GBT "--model auto" chose) is untouched.
    assert.deepEqual(shipped.map(md5), before);
  });

  it('--out relative to the working directory, the card beside it', () => {
    const p = sluice(tmp, 'train', 'fraud', ...SMALL, '--out', 'models/v2.onnx');
    assert.equal(p.status, 0, p.stderr);
    assert.ok(existsSync(join(tmp, 'models', 'v2.onnx')));
    assert.equal(
      JSON.parse(readFileSync(join(tmp, 'models', 'v2.json'), 'utf8')).kind,
      'logistic-regression',
    );
  });

  it('npm run train:fraud rewrites the shipped model explicitly, the way its card says it was made', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(
      pkg.scripts['train:fraud'],
      'node bin/sluice.js train fraud --model auto --out examples/fraud/model.onnx',
    );
    // "--model auto" on the default history: the card records a selection over both model kinds.
    const card = JSON.parse(readFileSync(shipped[1]!, 'utf8')) as FraudModelInfo;
    assert.equal(card.training.seed, 1_000_003);
    assert.ok(card.selection, 'the shipped card was made with validation (--model auto)');
  });
});
