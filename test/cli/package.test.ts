import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

// The installed package's layout (dist/, npm pack) is checked by .ci/pack-check.sh; these hold
// what the checkout can show: the CLI's messages and what `import 'sluice'` loads.
const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-cli-pkg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sluice = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/sluice.js'), ...args], { cwd: tmp, encoding: 'utf8' });

describe('the CLI as a package', () => {
  it('--version prints the package version', () => {
    const p = sluice('--version');
    assert.equal(p.status, 0, p.stderr);
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(p.stdout.trim(), version);
  });

  it('a missing --model names the path as given, and a missing description names the .json', () => {
    const p = sluice('demo', 'fraud', '--model', 'nope.onnx', '--no-dashboard', '--events', '10');
    assert.equal(p.status, 2);
    assert.match(p.stderr, /--model nope\.onnx: no such file \(looked for .*nope\.onnx\)/);
    assert.doesNotMatch(p.stderr, /nope\.json|at .*\.ts:\d+/); // no file the user never named, no stack
    copyFileSync(join(root, 'examples/fraud/model.onnx'), join(tmp, 'bare.onnx'));
    const q = sluice('demo', 'fraud', '--model', 'bare.onnx', '--no-dashboard', '--events', '10');
    assert.equal(q.status, 2);
    assert.match(q.stderr, /--model bare\.onnx: the model's description .*bare\.json is missing/);
  });

  it('importing sluice loads no native addon, client library or the ONNX schema until used', () => {
    const probe = `
      await import(${JSON.stringify(join(root, 'src/index.ts'))});
      const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
      const cjs = Object.keys((await import('node:module')).createRequire(import.meta.url).cache);
      console.log(JSON.stringify([
        ...new Set(maps.match(/[^ ]+\\.node\\b/g) ?? []),
        ...cjs.filter((f) => /node_modules\\/(onnx-proto|onnxruntime-node|lmdb|ioredis|pg|mqtt)\\//.test(f)),
      ]));`;
    const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(JSON.parse(p.stdout.trim().split('\n').pop()!), []);
  });
});

describe('ONNX element types', () => {
  it('ElemType holds the ONNX standard TensorProto.DataType numbers (written out, so the schema loads lazily)', async () => {
    const { ElemType } = await import('../../src/inference/onnx-export/graph-builder.js');
    const { onnx } = await import('../../src/inference/onnx-schema.js');
    const T = onnx().TensorProto.DataType;
    assert.deepEqual(ElemType, {
      float: T.FLOAT,
      double: T.DOUBLE,
      int32: T.INT32,
      int64: T.INT64,
      string: T.STRING,
      bool: T.BOOL,
    });
  });
});
