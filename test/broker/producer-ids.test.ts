// Producer ids are reserved on disk before they are handed out: a broker restarted at the
// same clock reading (or after the clock stepped back) never hands out an id twice.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BrokerError } from '../../src/broker/errors.js';
import { ProducerTable } from '../../src/broker/producers.js';
import { tempDir } from './helpers.js';

test('ids issued before a restart are never issued again, even with the clock behind', (t) => {
  const dir = tempDir(t);
  t.mock.method(Date, 'now', () => 1_000_000);
  const before = new ProducerTable(dir);
  const issued = Array.from({ length: 1500 }, () => before.init(-1, -1).producerId); // crosses a block
  // Restarted (kill -9: nothing saved at shutdown) with the clock stepped back.
  t.mock.method(Date, 'now', () => 999_000);
  const after = new ProducerTable(dir);
  const next = after.init(-1, -1);
  assert.equal(next.code, 0);
  assert.ok(next.producerId > Math.max(...issued), `${next.producerId} follows every id issued before`);
  assert.equal(new Set(issued).size, issued.length);
});

test('a damaged id file stops the broker with a clear error instead of risking reused ids', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'producer-ids.json'), '{"version":1,"reservedUpTo":"x"}');
  assert.throws(
    () => new ProducerTable(dir),
    (err: unknown) => err instanceof BrokerError && /producer-ids\.json is damaged/.test(err.message),
  );
});
