// docs/errors.md lists every error code with its class, what it means and what to do; this test
// keeps it in step with the one code list (ERROR_CODES in src/core/errors.ts), the way Fastify
// keeps its Errors.md in step with lib/errors.js. Retired codes have their own table and are
// never given out again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_AREAS, ERROR_CODES, RETIRED_ERROR_CODES, SluiceError } from '../../src/core/errors.js';
import * as root from '../../src/index.js';
import * as broker from '../../src/broker/index.js';
import * as connectors from '../../src/connectors/index.js';
import * as inference from '../../src/inference/index.js';
import * as log from '../../src/log/index.js';
import * as observe from '../../src/observe/index.js';
import * as actions from '../../src/actions/index.js';
import * as kafkaClient from '../../src/kafka-client/index.js';
import { UsageError } from '../../src/cli/args.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** The rows `| \`CODE\` | \`Class\` | ...` of the tables under `heading` (up to the next `## `). */
function rows(heading: string): [string, string][] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/errors.md has a "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return [...doc.slice(start, end < 0 ? undefined : end).matchAll(/^\| `([A-Z0-9_]+)` +\| ([^|]+)\|/gm)].map(
    (m) => [m[1]!, m[2]!.trim()],
  );
}

// Every class a code names, where a user finds it (the package's entry points; UsageError: the CLI).
const exported: Record<string, unknown> = {
  ...log,
  ...broker,
  ...observe,
  ...inference,
  ...actions,
  ...connectors,
  ...kafkaClient,
  ...root,
  UsageError,
};

describe('docs/errors.md and the code list', () => {
  const documented = rows('Codes');
  const retired = rows('Retired codes');

  it('every code in ERROR_CODES is documented once, with its class', () => {
    const seen = new Map<string, string>();
    for (const [code, cls] of documented) {
      assert.ok(!seen.has(code), `${code} is documented twice`);
      seen.set(code, cls);
    }
    for (const [code, cls] of Object.entries(ERROR_CODES)) {
      assert.ok(seen.has(code), `${code} (thrown as ${cls}) is missing from docs/errors.md`);
      assert.equal(seen.get(code), `\`${cls}\``, `${code}: the class in docs/errors.md`);
    }
  });

  it('the doc lists no code that the code list does not have', () => {
    for (const [code] of documented)
      assert.ok(code in ERROR_CODES, `docs/errors.md lists ${code}, which src/core/errors.ts does not`);
  });

  it('retired codes: the same list in both places, none reused, each replacement a current code', () => {
    assert.deepEqual(retired.map(([c]) => c).sort(), Object.keys(RETIRED_ERROR_CODES).sort());
    for (const [code, replacement] of Object.entries(RETIRED_ERROR_CODES)) {
      assert.ok(!(code in ERROR_CODES), `${code} is retired and must not be used again`);
      if (replacement !== '') assert.ok(replacement in ERROR_CODES, `${code} → ${replacement}`);
      const cell = retired.find(([c]) => c === code)![1];
      assert.equal(cell, replacement === '' ? '— (listed, never thrown)' : `\`${replacement}\``, code);
    }
  });

  it('one naming style: SLUICE_<AREA>_<WHAT>, AREA from the documented list', () => {
    const style = new RegExp(`^SLUICE_(${ERROR_AREAS.join('|')})_[A-Z0-9]+(_[A-Z0-9]+)*$`);
    for (const code of Object.keys(ERROR_CODES)) assert.match(code, style);
    for (const area of ERROR_AREAS) assert.match(doc, new RegExp(`\`${area}\``), `area ${area} documented`);
  });

  it("every class a code names is exported, and is a SluiceError (HttpIngest's codes are HTTP answers)", () => {
    for (const cls of new Set(Object.values(ERROR_CODES))) {
      const ctor = exported[cls];
      assert.equal(typeof ctor, 'function', `${cls} is exported`);
      if (cls === 'HttpIngest') continue;
      assert.ok(
        (ctor as { prototype: unknown }).prototype instanceof SluiceError || ctor === SluiceError,
        `${cls} extends SluiceError`,
      );
    }
  });
});
