// @google-cloud/pubsub is an optional peer dependency: without it, `sluice` still loads, and a
// Pub/Sub source or sink fails at open with an error that says what to install.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

test('without @google-cloud/pubsub, opening a Pub/Sub source or sink says to install it', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/connectors/fixtures/no-pubsub.mjs',
      'test/connectors/fixtures/open-pubsub.ts',
    ],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const [source, sink] = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { code: string; message: string });
  assert.equal(source!.code, 'SLUICE_OPTION_DEPENDENCY_MISSING');
  assert.equal(sink!.code, 'SLUICE_OPTION_DEPENDENCY_MISSING');
  for (const e of [source!, sink!])
    assert.match(
      e.message,
      /needs the @google-cloud\/pubsub package, which is not installed: npm install @google-cloud\/pubsub@5/,
    );
});
