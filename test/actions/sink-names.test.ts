// Issue 22: `*Sink` factories returned an ActionSink (for action()), not a stream Sink (for
// .to()); they are `*ActionSink` now, and the old names stay in sluice/actions as deprecated aliases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as actions from '../../src/actions/index.js';
import * as root from '../../src/index.js';

describe('action sink names', () => {
  it('the root has the *ActionSink names only; sluice/actions keeps the old ones as aliases', () => {
    for (const kind of ['file', 'kafka', 'postgres', 'topic', 'webhook']) {
      const current = `${kind}ActionSink`;
      const old = `${kind}Sink`;
      assert.equal(typeof (root as Record<string, unknown>)[current], 'function', current);
      assert.equal((root as Record<string, unknown>)[old], undefined, `${old} is not in the root`);
      assert.equal(
        (actions as Record<string, unknown>)[old],
        (actions as Record<string, unknown>)[current],
        old,
      );
    }
  });
});
