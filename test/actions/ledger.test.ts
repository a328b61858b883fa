import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ActionLedger, action } from '../../src/actions/index.js';
import { fromArray, pipeline } from '../../src/stream/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (key: string, payload: unknown = { k: key }) => ({
  key,
  action: 'a',
  payload,
  time: Date.now(),
});

describe('ActionLedger', () => {
  it('records a key once, across reopen', () => {
    const path = join(dir, 'once.jsonl');
    const l = ActionLedger.open(path);
    assert.equal(l.record([entry('x'), entry('y'), entry('x')]).length, 2);
    l.close();
    const l2 = ActionLedger.open(path);
    assert.equal(l2.size, 2);
    assert.equal(l2.record([entry('x'), entry('z')]).length, 1);
    l2.close();
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 3);
  });

  it('keeps only the most recent dedupWindow keys in memory, every entry on disk', () => {
    const path = join(dir, 'window.jsonl');
    const l = ActionLedger.open(path, { dedupWindow: 3 });
    l.record(['a', 'b', 'c', 'd', 'e'].map((k) => entry(k)));
    assert.equal(l.size, 5);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((k) => l.has(k)),
      [false, false, true, true, true],
    );
    assert.equal(l.record([entry('e'), entry('f')]).length, 1, 'a recent key is still skipped');
    l.close();
    const reopened = ActionLedger.open(path, { dedupWindow: 3 });
    assert.deepEqual(
      ['c', 'd', 'e', 'f'].map((k) => reopened.has(k)),
      [false, true, true, true],
      'the window is refilled from the end of the file',
    );
    assert.deepEqual(
      [...reopened.entries()].map((e) => e.key),
      ['a', 'b', 'c', 'd', 'e', 'f'],
    );
    const all = ActionLedger.open(join(dir, 'window-all.jsonl'));
    all.record(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => entry(k)));
    assert.equal(reopened.digest(), all.digest(), 'the digest covers every entry, not only the window');
    reopened.close();
    all.close();
  });

  it('cuts a torn last line on open and keeps everything before it', () => {
    const path = join(dir, 'torn.jsonl');
    const l = ActionLedger.open(path);
    l.record([entry('a'), entry('b')]);
    l.close();
    const torn = '{"key":"c","act';
    appendFileSync(path, torn);
    const size = statSync(path).size;
    const l2 = ActionLedger.open(path);
    assert.equal(l2.size, 2);
    assert.equal(l2.recoveredBytes, torn.length);
    assert.equal(statSync(path).size, size - torn.length);
    l2.record([entry('c')]);
    l2.close();
    assert.equal(ActionLedger.open(path).size, 3);
  });

  it('digest depends on keys and payloads only, not on order or time', () => {
    const a = ActionLedger.open(join(dir, 'd1.jsonl'));
    const b = ActionLedger.open(join(dir, 'd2.jsonl'));
    a.record([entry('1'), entry('2')]);
    b.record([{ ...entry('2'), time: 5 }]);
    b.record([entry('1')]);
    assert.equal(a.digest(), b.digest());
    const c = ActionLedger.open(join(dir, 'd3.jsonl'));
    c.record([entry('1'), entry('2', { k: 'other' })]);
    assert.notEqual(a.digest(), c.digest());
    truncateSync(join(dir, 'd3.jsonl'), 0);
  });
});

describe('idempotent action sink', () => {
  it('replaying the same records produces no second effect', async () => {
    const ledger = ActionLedger.open(join(dir, 'replay.jsonl'));
    const delivered: string[] = [];
    const sink = () =>
      action<number>({
        name: 'alert',
        ledger,
        when: (x) => x % 3 === 0,
        payload: (x) => ({ x }),
        deliver: async (es) => void delivered.push(...es.map((e) => e.key)),
      });
    const values = Array.from({ length: 100 }, (_, i) => i);
    const first = await pipeline('p').from(fromArray(values)).to(sink()).run().done;
    const second = await pipeline('p').from(fromArray(values)).to(sink()).run().done;
    assert.equal(first.counters.actions, 34);
    assert.equal(second.counters.actions, 0);
    assert.equal(second.counters.duplicateActions, 34);
    assert.equal(delivered.length, 34);
    assert.equal(new Set(delivered).size, 34);
    assert.equal(delivered[1], 'p/alert/array-0@3');
    assert.equal(ledger.size, 34);
  });
});
