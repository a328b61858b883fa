import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  LmdbCheckpointStore,
  MemoryCheckpointStore,
  collect,
  fromArray,
  listState,
  mapState,
  pipeline,
  SluiceError,
  valueState,
  type CheckpointStore,
} from '../../src/stream/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-state-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Ev {
  k: string;
  t: number;
  x: number;
}

const evs: Ev[] = Array.from({ length: 20_000 }, (_, i) => ({ k: `k${(i * 7919) % 997}`, t: i, x: i % 13 }));

/** Per key: running count, the last 3 values, and a histogram of x; emits a summary per record. */
const build = (source: Ev[], name = 'keyed', maxCachedKeys?: number) =>
  pipeline(name)
    .from(fromArray(source))
    .eventTime((e) => e.t)
    .keyBy((e) => e.k)
    .withState(
      {
        n: valueState<number>(),
        recent: listState<number>({ maxLength: 3 }),
        hist: mapState<number, number>(),
      },
      (e, s) => {
        const n = (s.n.get() ?? 0) + 1;
        s.n.set(n);
        s.recent.add(e.x);
        s.hist.set(e.x, (s.hist.get(e.x) ?? 0) + 1);
        return `${e.k}:${n}:${s.recent.get().join(',')}:${s.hist.get(e.x)}:${s.hist.size}`;
      },
      { maxCachedKeys },
    );

/** What the state must produce, computed with plain Maps. */
function expected(source: Ev[]): string[] {
  const n = new Map<string, number>();
  const recent = new Map<string, number[]>();
  const hist = new Map<string, Map<number, number>>();
  return source.map((e) => {
    n.set(e.k, (n.get(e.k) ?? 0) + 1);
    const r = [...(recent.get(e.k) ?? []), e.x].slice(-3);
    recent.set(e.k, r);
    const h = hist.get(e.k) ?? new Map<number, number>();
    h.set(e.x, (h.get(e.x) ?? 0) + 1);
    hist.set(e.k, h);
    return `${e.k}:${n.get(e.k)}:${r.join(',')}:${h.get(e.x)}:${h.size}`;
  });
}

async function runInterrupted(store: CheckpointStore, stopAfterMs: number): Promise<string[]> {
  const parts: string[] = [];
  // Stop early and often; on a loaded machine a run may do little before its stop, so allow many.
  for (let attempt = 0; attempt < 500 && parts.length < evs.length; attempt++) {
    const run = build(evs)
      .to({ name: 'p', write: (recs) => void parts.push(...recs.map((r) => r.value)) })
      .run({ checkpoints: store, checkpointIntervalMs: 1, batchSize: 500 });
    setTimeout(() => void run.stop(), stopAfterMs);
    await run.done;
  }
  return parts;
}

describe('keyed state (value, list, map)', () => {
  it('keeps each key its own state', async () => {
    const out = collect<string>();
    await build(evs).to(out).run().done;
    assert.deepEqual(out.values, expected(evs));
  });

  it('checkpointed and restored across stops, in memory and in LMDB, equals one uninterrupted run', async () => {
    const want = expected(evs);
    assert.deepEqual(await runInterrupted(new MemoryCheckpointStore(), 5), want);
    const lmdb = LmdbCheckpointStore.open(join(tmp, 'lmdb'));
    assert.deepEqual(await runInterrupted(lmdb, 5), want);
    await lmdb.close();
  });

  it('works with more keys than fit in its memory cache (cold keys read back from LMDB)', async () => {
    const store = LmdbCheckpointStore.open(join(tmp, 'small-cache'));
    const out = collect<string>();
    const p = build(evs, 'cold', 50);
    await p.to(out).run({ checkpoints: store, checkpointIntervalMs: 1, batchSize: 200 }).done;
    assert.deepEqual(out.values, expected(evs));
    await store.close();
  });

  it('clears a key whose state was not written for ttl ms of event time', async () => {
    const out = collect<number>();
    const input = [0, 10, 20, 100, 105].map((t) => ({ k: 'a', t, x: 1 }));
    await pipeline('ttl')
      .from(fromArray(input))
      .eventTime((e) => e.t)
      .keyBy((e) => e.k)
      .withState(
        { n: valueState<number>() },
        (_e, s) => {
          const n = (s.n.get() ?? 0) + 1;
          s.n.set(n);
          return n;
        },
        { ttl: 50 },
      )
      .to(out)
      .run().done;
    assert.deepEqual(out.values, [1, 2, 3, 1, 2]);
  });

  it('keyed state without keyBy is refused when the pipeline is built, not record by record', () => {
    // TypeScript rules it out (see dsl-types.ts); a JavaScript caller gets a SluiceError at once.
    const stream = pipeline('nokey').from(fromArray([1, 2])) as unknown as {
      withState: (...args: unknown[]) => unknown;
    };
    assert.throws(
      () => stream.withState({ n: valueState<number>() }, (x: number) => x),
      (e: unknown) =>
        e instanceof SluiceError &&
        e.code === 'SLUICE_PIPELINE_INVALID' &&
        /withState\(\) works per key: call \.keyBy\(fn\) before it/.test(e.message),
    );
  });
});

describe('KeyedStateCache', () => {
  it('evicts only keys whose latest value is committed, and reads them back', async () => {
    const { KeyedStateCache } = await import('../../src/stream/index.js');
    const store = new MemoryCheckpointStore();
    const cache = new KeyedStateCache<number[]>({
      encode: (v) => [...v],
      decode: (s) => s as number[],
      maxCachedKeys: 50,
    });
    cache.attach(store.reader('p'), 'ns', true);
    for (let k = 0; k < 100; k++) cache.set(k, [k]);
    const changes = cache.drainChanges(1);
    cache.set(7, [7, 7]); // dirty again after the barrier: must stay in memory
    assert.equal(cache.size, 100);
    await store.save({ pipeline: 'p', id: 1, offsets: {}, counters: {}, savedAt: 0 }, changes);
    cache.committed(1);
    assert.ok(cache.size <= 50, `kept ${cache.size} keys`);
    assert.deepEqual(cache.get(7), [7, 7]);
    assert.deepEqual(cache.get(3), [3]);
    cache.delete(3);
    assert.equal(cache.get(3), undefined, 'a deleted key is not read back from the store');
  });
});
