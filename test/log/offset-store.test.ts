import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OffsetStore } from '../../src/log/index.js';
import { defer, tempDir, throwsCode } from './helpers.js';

test('commits are readable at once and after a restart; the last commit wins', (t) => {
  const dir = tempDir(t);
  let store = OffsetStore.open(dir);
  assert.equal(store.committed('g', 't', 0), undefined);
  store.commit('g', 't', 0, 5);
  store.commit('g', 't', 0, 9, 'meta');
  store.commit('g', 't', 1, 3);
  store.commitMany('other', [
    { topic: 't', partition: 0, offset: 100 },
    { topic: 'u', partition: 7, offset: 0 },
  ]);
  assert.equal(store.committed('g', 't', 0), 9);
  store.close();
  throwsCode(() => store.commit('g', 't', 0, 1), 'SLUICE_LOG_CLOSED');

  store = OffsetStore.open(dir);
  defer(t, () => store.close());
  assert.equal(store.committed('g', 't', 0), 9);
  assert.deepEqual(store.committedEntry('g', 't', 0), { offset: 9, metadata: 'meta' });
  assert.deepEqual(store.committedEntry('g', 't', 1), { offset: 3 });
  assert.equal(store.committed('other', 't', 0), 100);
  assert.equal(store.committed('other', 'u', 7), 0);
  assert.equal(store.committed('nobody', 't', 0), undefined);
  const lines = readFileSync(join(dir, 'offsets.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 4, 'compacted on open to one line per partition');
});

test('a torn last line is ignored with a warning; earlier commits survive', (t) => {
  const dir = tempDir(t);
  const first = OffsetStore.open(dir);
  first.commit('g', 't', 0, 10);
  first.close();
  appendFileSync(join(dir, 'offsets.jsonl'), '{"g":"g","t":"t","p":0,"o":2');
  const warnings: string[] = [];
  const store = OffsetStore.open(dir, { onWarning: (m) => warnings.push(m) });
  defer(t, () => store.close());
  assert.equal(store.committed('g', 't', 0), 10);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /torn last line/);
  store.commit('g', 't', 0, 11);
  assert.equal(store.committed('g', 't', 0), 11);
  const reopened = OffsetStore.open(dir);
  assert.equal(reopened.committed('g', 't', 0), 11);
  reopened.close();
});

test('many commits keep the file small', (t) => {
  const dir = tempDir(t);
  const store = OffsetStore.open(dir);
  defer(t, () => store.close());
  for (let i = 0; i < 1100; i++) store.commit('g', 't', i % 2, i);
  const lines = readFileSync(join(dir, 'offsets.jsonl'), 'utf8').trim().split('\n');
  assert.ok(lines.length <= 1001, `file has ${lines.length} lines`);
  assert.equal(store.committed('g', 't', 1), 1099);
  assert.equal(store.committed('g', 't', 0), 1098);
});

test('bad commits are refused', (t) => {
  const store = OffsetStore.open(tempDir(t));
  defer(t, () => store.close());
  throwsCode(() => store.commit('', 't', 0, 1), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => store.commit('g', 't', -1, 1), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => store.commit('g', 't', 0, -5), 'SLUICE_LOG_INVALID_ARGUMENT');
  throwsCode(() => store.commit('g', 't', 0, 1.5), 'SLUICE_LOG_INVALID_ARGUMENT');
});

test('deleted offsets stay deleted after a reopen; groups() lists groups with commits', (t) => {
  const dir = tempDir(t);
  const store = OffsetStore.open(dir);
  store.commitMany('g1', [
    { topic: 't', partition: 0, offset: 5 },
    { topic: 't', partition: 1, offset: 7 },
  ]);
  store.commit('g2', 't', 0, 1);
  store.deleteMany('g1', [
    { topic: 't', partition: 0 },
    { topic: 'never', partition: 3 },
  ]);
  assert.equal(store.committed('g1', 't', 0), undefined);
  assert.deepEqual(store.groups(), ['g1', 'g2']);
  store.deleteMany('g2', [{ topic: 't', partition: 0 }]);
  store.close();
  const again = OffsetStore.open(dir);
  defer(t, () => again.close());
  assert.equal(again.committed('g1', 't', 0), undefined, 'the deletion was durable');
  assert.equal(again.committed('g1', 't', 1), 7);
  assert.deepEqual(again.groups(), ['g1']);
});
