// The changelog's read-back rules on hand-made record sequences: only checkpointed changes
// count, an unfinished checkpoint is dropped, and a fenced (older-epoch) writer is ignored.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChangelogReader,
  changeRecord,
  checkpointRecord,
  claimRecord,
  type ChangelogRecord,
} from '../../src/connectors/scale/changelog.js';
import type { FetchedRecord } from '../../src/connectors/partition-fetcher.js';

/** The records as a fetch returns them, at consecutive offsets. */
function fetched(records: ChangelogRecord[]): FetchedRecord[] {
  return records.map((r, i) => ({
    partition: 0,
    offset: i,
    timestamp: 0,
    key: r.key,
    value: r.value,
    headers: [...r.headers],
  }));
}

describe('changelog read-back', () => {
  it('applies checkpointed changes and keeps the last offsets', () => {
    const reader = new ChangelogReader();
    reader.apply(
      fetched([
        claimRecord(1, 'w1'),
        changeRecord(1, 'f', 'a', { n: 1 }),
        changeRecord(1, 'f', 'b', new Float64Array([1, 2])),
        checkpointRecord(1, { 't/0': 10 }),
        changeRecord(1, 'f', 'a', { n: 2 }),
        changeRecord(1, 'f', 'b', undefined),
        checkpointRecord(1, { 't/0': 20, 't/0|in/3': 7 }),
      ]),
    );
    const r = reader.result();
    assert.deepEqual(r.offsets, { 't/0': 20, 't/0|in/3': 7 });
    assert.deepEqual(r.state.get('f', 'a'), { n: 2 });
    assert.equal(r.state.get('f', 'b'), undefined, 'a tombstone deletes the key');
    assert.equal(r.epoch, 1);
    assert.deepEqual(r.uncommitted, []);
  });

  it('drops changes that no checkpoint marker follows (a crash mid-checkpoint)', () => {
    const reader = new ChangelogReader();
    reader.apply(
      fetched([
        claimRecord(1, 'w1'),
        changeRecord(1, 'f', 'a', 1),
        checkpointRecord(1, { 't/0': 5 }),
        changeRecord(1, 'f', 'a', 2),
        changeRecord(1, 'f', 'c', 3),
      ]),
    );
    const r = reader.result();
    assert.equal(r.state.get('f', 'a'), 1);
    assert.equal(r.state.get('f', 'c'), undefined);
    assert.deepEqual(r.offsets, { 't/0': 5 });
    assert.deepEqual(r.uncommitted.sort(), [
      ['f', 'a'],
      ['f', 'c'],
    ]);
  });

  it('ignores a fenced worker: writes of a lower epoch after a newer claim', () => {
    const reader = new ChangelogReader();
    reader.apply(
      fetched([
        claimRecord(1, 'w1'),
        changeRecord(1, 'f', 'a', 1),
        checkpointRecord(1, { 't/0': 5 }),
        changeRecord(1, 'f', 'a', 99), // w1's unfinished checkpoint when w2 took over
        claimRecord(2, 'w2'),
        checkpointRecord(1, { 't/0': 9 }), // w1 finishing late: fenced
        changeRecord(2, 'f', 'a', 2),
        checkpointRecord(2, { 't/0': 7 }),
        changeRecord(1, 'f', 'z', 1), // more from w1: fenced
        checkpointRecord(1, { 't/0': 11 }),
      ]),
    );
    const r = reader.result();
    assert.equal(r.state.get('f', 'a'), 2);
    assert.equal(r.state.get('f', 'z'), undefined);
    assert.deepEqual(r.offsets, { 't/0': 7 });
    assert.equal(r.epoch, 2);
  });
});
