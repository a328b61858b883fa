// The state checksum's entry hash must not change with its implementation: stores written
// before keep validating on open. Its fast paths (byte arrays, plain keys) are checked here
// against the original definition, JSON text through the `canonical` replacer.
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LmdbCheckpointStore, SluiceError } from '../../src/stream/index.js';
import { entryHash2 } from '../../src/stream/state/entry-hash.js';
import { loadLmdb } from '../../src/stream/state/lmdb-module.js';
import { canonicalText, checksumOf, entryHash } from '../../src/stream/state/state-checksum.js';
import { KeyTimeline } from '../../src/stream/windows/key-timeline.js';

/** The hash as first written (before the fast paths): JSON.stringify with a replacer for bytes. */
function originalHash(key: unknown, value: unknown): number {
  function canonical(this: Record<string, unknown>, k: string, v: unknown): unknown {
    const raw = this[k];
    if (ArrayBuffer.isView(raw))
      return `\u0000bytes:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`;
    return v;
  }
  const text = `${JSON.stringify(key, canonical)}\n${JSON.stringify(value, canonical) ?? 'undefined'}`;
  return Number.parseInt(hash('sha1', text).slice(0, 12), 16);
}

test('entry hashes equal the original definition for every kind of stored value', () => {
  const tl = KeyTimeline.empty(2);
  for (let i = 0; i < 50; i++) tl.insert(1_700_000_000_000 + i * 997, [i * 1.5, i % 3]);
  const bytes = tl.toBinary();
  const offset = Buffer.concat([Buffer.from([1, 2, 3]), bytes]).subarray(3); // not 8-aligned
  const values: unknown[] = [
    bytes,
    offset,
    new Float64Array([1.5, -0, NaN, Infinity]),
    new Uint8Array(0),
    { seen: 65536, maxTime: null },
    { nested: { b: Buffer.from('abc'), list: [1, 'x', null] } },
    [1, 'two', 3.5],
    [Buffer.from([9, 8, 7]), 1],
    'text',
    42,
    null,
    undefined,
  ];
  const keys: unknown[] = [
    ['fraud', 'features/customer', 17],
    ['p', 'ns', 'card-7'],
    ['p', 'ns', '\u0000meta'],
    ['p', 'ns', NaN],
    'plain',
  ];
  for (const key of keys)
    for (const value of values)
      assert.equal(
        entryHash(key, value),
        originalHash(key, value),
        `${JSON.stringify(key)} / ${String(value)}`,
      );
});

test('checkpoints that replace and delete entries keep a checksum that the next open recomputes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-checksum-'));
  try {
    const path = join(dir, 'state');
    const meta = (id: number) => ({
      pipeline: 'p',
      id,
      offsets: { 't/0': id },
      counters: {} as never,
      savedAt: 0,
    });
    const tl = (n: number) => {
      const t = KeyTimeline.empty(1);
      for (let i = 0; i < n; i++) t.insert(1000 * i, [i]);
      return t.toBinary();
    };
    let store = LmdbCheckpointStore.open(path);
    await store.load('p');
    await store.save(meta(1), [
      { ns: 'f', key: 1, value: tl(3) },
      { ns: 'f', key: 2, value: tl(4) },
      { ns: 'g', key: 'a', value: { n: 1 } },
    ]);
    // Replaced (twice in one checkpoint), deleted, deleted and written again, and new.
    await store.save(meta(2), [
      { ns: 'f', key: 1, value: tl(5) },
      { ns: 'f', key: 1, value: tl(6) },
      { ns: 'f', key: 2, value: undefined },
      { ns: 'g', key: 'a', value: undefined },
      { ns: 'g', key: 'a', value: { n: 2 } },
      { ns: 'g', key: 'b', value: { n: 3 } },
    ]);
    await store.save(meta(3), [{ ns: 'f', key: 1, value: tl(7) }]);
    await store.close();
    store = LmdbCheckpointStore.open(path);
    assert.equal((await store.load('p'))?.id, 3); // throws SLUICE_STATE_UNREADABLE on a wrong checksum
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('version-2 entry hashes: same bytes at any offset hash alike, a changed byte or key does not', () => {
  const bytes = KeyTimeline.empty(1).toBinary();
  const tl = KeyTimeline.empty(1);
  for (let i = 0; i < 40; i++) tl.insert(1_700_000_000_000 + i, [i]);
  const b = tl.toBinary();
  const shifted = Buffer.concat([Buffer.from([0]), b]).subarray(1);
  const key = canonicalText(['p', 'ns', 7])!;
  assert.equal(entryHash2(key, shifted), entryHash2(key, b));
  assert.ok(entryHash2(key, b) < 2 ** 48 && Number.isInteger(entryHash2(key, b)));
  const seen = new Set<number>([entryHash2(key, bytes), entryHash2(canonicalText(['p', 'ns', 8])!, b)]);
  for (let i = 0; i < b.length; i++) {
    const c = Buffer.from(b);
    c[i] ^= 1 << (i % 8);
    seen.add(entryHash2(key, c));
  }
  seen.add(entryHash2(key, b.subarray(0, b.length - 1)));
  seen.add(entryHash2(key, b));
  assert.equal(seen.size, b.length + 4); // every variant hashes apart
  // Bytes and a text hash apart; plain values hash by their canonical text.
  assert.notEqual(entryHash2(key, Buffer.from('"x"')), entryHash2(key, 'x'));
  assert.equal(entryHash2(key, { n: 1 }), entryHash2(key, { n: 1 }));
  assert.notEqual(entryHash2(key, { n: 1 }), entryHash2(key, { n: 2 }));
});

test('a store whose checksum holds version-1 hashes opens, is checked as such, and goes on with version 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-checksum-v1-'));
  try {
    const path = join(dir, 'state');
    const meta = (id: number) => ({ pipeline: 'p', id, offsets: {}, counters: {} as never, savedAt: 0 });
    const tl = KeyTimeline.empty(1);
    tl.insert(5, [2]);
    let store = LmdbCheckpointStore.open(path);
    await store.load('p');
    await store.save(meta(1), [
      { ns: 'f', key: 1, value: tl.toBinary() },
      { ns: 'g', key: 'a', value: { n: 1 } },
    ]);
    await store.close();
    // Rewrite the checksum as a store of before version 2 had it: version-1 hashes, no version.
    const asV1 = async (damage: boolean) => {
      const root = loadLmdb().open({ path, maxDbs: 4, encoding: 'msgpack' });
      const state = root.openDB<unknown, (string | number)[]>({
        name: 'state',
        encoding: 'msgpack',
        keyEncoding: 'ordered-binary',
      });
      const sums = root.openDB<unknown, string>({ name: 'state-checksums', encoding: 'msgpack' });
      const v1 = checksumOf(state.getRange({ start: ['p'], end: ['p\u0000'] }));
      await sums.put('p', damage ? { ...v1, sum: v1.sum + 1 } : v1);
      await root.close();
    };
    await asV1(true);
    store = LmdbCheckpointStore.open(path);
    await assert.rejects(store.load('p'), (e: SluiceError) => e.code === 'SLUICE_STATE_UNREADABLE');
    await store.close();
    await asV1(false);
    store = LmdbCheckpointStore.open(path);
    assert.equal((await store.load('p'))?.id, 1);
    await store.save(meta(2), [{ ns: 'g', key: 'a', value: { n: 2 } }]);
    await store.close();
    store = LmdbCheckpointStore.open(path);
    assert.equal((await store.load('p'))?.id, 2); // now checked with version 2
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
