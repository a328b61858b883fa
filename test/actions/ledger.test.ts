import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

  it('sets a damaged entry aside with its line and reason, keeps every entry after it, still dedupes it', () => {
    const path = join(dir, 'damaged.jsonl');
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const l = ActionLedger.open(path);
    l.record(keys.map((k) => entry(k, { n: k })));
    l.close();
    const clean = ActionLedger.open(join(dir, 'damaged-clean.jsonl'));
    clean.record(keys.filter((k) => k !== 'k100').map((k) => entry(k, { n: k })));
    const lines = readFileSync(path, 'utf8').split('\n');
    const original = lines[100]!;
    lines[100] = original.replace('"n":"k100"', '"n":"k10O"'); // one changed byte in line 101's payload
    writeFileSync(path, lines.join('\n'));
    const warnings: string[] = [];
    const reopened = ActionLedger.open(path, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(reopened.damaged.length, 1);
    assert.equal(reopened.damaged[0]!.line, 101);
    assert.match(reopened.damaged[0]!.reason, /checksum mismatch/);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /line 101: checksum mismatch/);
    assert.match(warnings[0]!, /damaged\.jsonl\.damaged/);
    assert.equal(reopened.size, 199, 'the 99 entries after the damaged one are kept');
    assert.deepEqual(
      [...reopened.entries()].map((e) => e.key),
      keys.filter((k) => k !== 'k100'),
    );
    assert.equal(reopened.digest(), clean.digest(), 'the digest covers the entries kept');
    assert.equal(reopened.has('k100'), true, 'its key still dedupes: a replay does not act twice');
    assert.equal(reopened.record([entry('k100'), entry('k200')]).length, 1);
    assert.match(
      readFileSync(`${path}.damaged`, 'utf8'),
      /^# line 101 of damaged\.jsonl: checksum mismatch.*\n.*"n":"k10O"/,
    );
    reopened.close();
    clean.close();
    const again = ActionLedger.open(path, { onWarning: (m) => warnings.push(m) });
    assert.equal(again.damaged.length, 0, 'set aside once: the ledger is whole again');
    assert.equal(again.size, 200);
    assert.equal(warnings.length, 1);
    again.close();
  });

  it('a lost newline or a line without its checksum is damage too; the torn tail is still only cut', () => {
    const path = join(dir, 'newline.jsonl');
    const l = ActionLedger.open(path);
    l.record(['a', 'b', 'c', 'd', 'e'].map((k) => entry(k)));
    l.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    const text = `${lines[0]}\n${lines[1]}X${lines[2]}\n{"key":"forged","action":"a","payload":1,"time":1}\n${lines[3]}\n${lines[4]}\n{"key":"torn`;
    writeFileSync(path, text);
    const reopened = ActionLedger.open(path, { onWarning: () => {} });
    assert.deepEqual(
      reopened.damaged.map((d) => [d.line, d.reason]),
      [
        [2, reopened.damaged[0]!.reason],
        [3, 'no checksum after checksummed lines'],
      ],
    );
    assert.match(reopened.damaged[0]!.reason, /checksum mismatch/);
    assert.deepEqual(
      [...reopened.entries()].map((e) => e.key),
      ['a', 'd', 'e'],
    );
    assert.equal(reopened.recoveredBytes, '{"key":"torn'.length);
    reopened.close();
  });

  it('loads a ledger written before checksums, and appends checksummed entries to it', () => {
    const path = join(dir, 'legacy.jsonl');
    const old = ['a', 'b'].map((k) => JSON.stringify(entry(k)) + '\n').join('');
    writeFileSync(path, old);
    const warnings: string[] = [];
    const l = ActionLedger.open(path, { onWarning: (m) => warnings.push(m) });
    assert.equal(l.size, 2);
    assert.equal(l.record([entry('a'), entry('c')]).length, 1);
    l.close();
    const text = readFileSync(path, 'utf8');
    assert.ok(text.startsWith(old), 'old lines are left as they are');
    assert.match(text.split('\n')[2]!, /,"crc32c":"[0-9a-f]{8}"\}$/);
    const reopened = ActionLedger.open(path, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(
      [...reopened.entries()].map((e) => e.key),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(Object.keys([...reopened.entries()][2]!), ['key', 'action', 'payload', 'time']);
    assert.deepEqual(warnings, []);
    reopened.close();
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
