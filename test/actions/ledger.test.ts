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
