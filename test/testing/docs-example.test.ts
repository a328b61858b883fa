// docs/testing.md shows examples/testing/card-alerts.test.ts: this keeps the page and the file
// the same (the page imports from 'sluice', the file from src/) and runs the file's tests here,
// so the example on the page is one that passes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const root = new URL('../../', import.meta.url);
const EXAMPLE = 'examples/testing/card-alerts.test.ts';

/** The file as the page shows it: no leading comment lines, imports from the package. */
function asOnThePage(source: string): string {
  return source
    .replace(/^(\/\/.*\n)+/, '')
    .replaceAll("'../../src/index.js'", "'sluice'")
    .replaceAll("'../../src/testing.js'", "'sluice/testing'")
    .trim();
}

it('docs/testing.md shows examples/testing/card-alerts.test.ts as it is', () => {
  const page = readFileSync(new URL('docs/testing.md', root), 'utf8');
  const block = /<!-- example: examples\/testing\/card-alerts\.test\.ts -->\s*```ts\n([\s\S]*?)```/.exec(
    page,
  );
  assert.ok(block, 'docs/testing.md has the example block, after its marker comment');
  assert.equal(block[1]!.trim(), asOnThePage(readFileSync(new URL(EXAMPLE, root), 'utf8')));
});

// The example's own tests, registered into this run.
await import('../../examples/testing/card-alerts.test.js');
