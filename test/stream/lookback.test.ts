import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LookbackFeatures,
  MemoryCheckpointStore,
  count,
  envelope,
  lookback,
  mean,
  sum,
  type Envelope,
} from '../../src/stream/index.js';
import { seededRandom } from '../../src/core/random.js';

interface Ev {
  k: number;
  t: number;
  x: number;
}

const env = (e: Ev, i: number): Envelope<Ev> => {
  const r = envelope(e, 't', 0, i, e.t, 0);
  r.eventTime = e.t;
  return r;
};

/** Brute force over everything seen so far: the definition of the feature. */
function reference(seen: Ev[], cur: Ev, windows: number[], delay: number): number[] {
  const out: number[] = [];
  for (const w of windows) {
    const hi = cur.t - delay;
    const lo = hi - w;
    const inWin = seen.filter((e) => e.k === cur.k && e.t > lo && e.t <= hi);
    const s = inWin.reduce((a, e) => a + e.x, 0);
    out.push(inWin.length, s, inWin.length === 0 ? -1 : s / inWin.length);
  }
  return out;
}

describe('lookback features', () => {
  for (const [label, outOfOrder, delay] of [
    ['in order', 0, 0],
    ['out of order', 0.3, 0],
    ['delayed windows', 0.1, 50],
  ] as const) {
    it(`matches a brute-force reference (${label}, many keys)`, () => {
      const r = seededRandom(7 + delay);
      const windows = [10, 40, 100];
      const op = new LookbackFeatures<Ev>({
        g: lookback<Ev>({
          key: (e) => e.k,
          windows,
          delay,
          outOfOrderness: 20,
          aggregate: { n: count(), s: sum((e) => e.x), m: mean((e) => e.x, { empty: -1 }) },
        }),
      });
      assert.deepEqual(op.names.slice(0, 3), ['g_n_10ms', 'g_s_10ms', 'g_m_10ms']);
      const seen: Ev[] = [];
      let t = 1000;
      for (let i = 0; i < 3000; i++) {
        t += Math.floor(r() * 3);
        // Out-of-order events arrive up to 20 ms late (within the retention, so results stay exact).
        const et = r() < outOfOrder ? t - Math.floor(r() * 20) : t;
        const e: Ev = { k: Math.floor(r() * 25), t: et, x: Math.round(r() * 1000) / 10 };
        seen.push(e);
        const got = [...op.apply(env(e, i))];
        const want = reference(seen, e, windows, delay);
        for (let j = 0; j < want.length; j++)
          assert.ok(
            Math.abs(got[j]! - want[j]!) < 1e-6,
            `record ${i} col ${j}: got ${got[j]} want ${want[j]}`,
          );
      }
    });
  }

  it('restores from checkpointed state to bit-identical results', async () => {
    const mk = () =>
      new LookbackFeatures<Ev>({
        g: lookback<Ev>({
          key: (e) => e.k,
          windows: [5, 50],
          aggregate: { n: count(), m: mean((e) => e.x) },
        }),
      });
    const a = mk();
    const r = seededRandom(3);
    const evs: Ev[] = Array.from({ length: 2000 }, (_, i) => ({
      k: Math.floor(r() * 10),
      t: i * 2,
      x: r() * 100,
    }));
    const store = new MemoryCheckpointStore();
    a.attach(store.reader('p'), 'f', true);
    evs.slice(0, 1000).forEach((e, i) => a.apply(env(e, i)));
    await store.save({ pipeline: 'p', id: 1, offsets: {}, counters: {}, savedAt: 0 }, a.drainChanges(1));
    const b = mk();
    b.attach(store.reader('p'), 'f', true);
    for (let i = 1000; i < 2000; i++)
      assert.deepEqual([...b.apply(env(evs[i]!, i))], [...a.apply(env(evs[i]!, i))]);
  });

  it('stores the same state whether or not the run was cut and restored (sums restart at 0 when a key goes idle)', async () => {
    // Sparse keys: each goes idle for longer than the 50 ms retention now and then, so its
    // timeline empties and restarts. Amounts in cents, as in the fraud demo.
    const r = seededRandom(11);
    const evs: Ev[] = [];
    for (let i = 0, t = 0; i < 3000; i++) {
      t += Math.floor(r() * 4);
      evs.push({ k: Math.floor(r() * 60), t, x: Math.round(r() * 20_000) / 100 });
    }
    const mk = () =>
      new LookbackFeatures<Ev>({
        g: lookback<Ev>({
          key: (e) => e.k,
          windows: [5, 50],
          aggregate: { n: count(), s: sum((e) => e.x), m: mean((e) => e.x) },
        }),
      });
    /** Runs every event with a checkpoint each 100 records, restarting from it at each cut. */
    const runCutAt = async (cuts: number[]): Promise<Map<string, unknown>> => {
      const store = new MemoryCheckpointStore();
      let op = mk();
      op.attach(store.reader('p'), 'f', true);
      let id = 0;
      const save = () =>
        store.save({ pipeline: 'p', id, offsets: {}, counters: {}, savedAt: 0 }, op.drainChanges(++id));
      for (let i = 0; i < evs.length; i++) {
        if (cuts.includes(i)) {
          await save();
          op = mk();
          op.attach(store.reader('p'), 'f', true);
        }
        op.apply(env(evs[i]!, i));
        if (i % 100 === 99) await save();
      }
      await save();
      const reader = store.reader('p');
      return new Map([...reader.keys('f/g')].map((k) => [String(k), reader.get('f/g', k)]));
    };
    const clean = await runCutAt([]);
    assert.ok(clean.size > 10, `only ${clean.size} keys stored`);
    for (const cuts of [[700], [1234, 2345], [150, 900, 1800, 2600]]) {
      const got = await runCutAt(cuts);
      assert.deepEqual([...got.keys()].sort(), [...clean.keys()].sort(), `keys differ, cut at ${cuts}`);
      for (const [key, value] of clean) {
        assert.deepEqual(got.get(key), value, `key ${key} stored differently after a cut at ${cuts}`);
      }
    }
  });

  it('forgets keys whose records all expired', () => {
    const op = new LookbackFeatures<Ev>({
      g: lookback<Ev>({ key: (e) => e.k, windows: [10], aggregate: { n: count() } }),
    });
    for (let i = 0; i < 70_000; i++) op.apply(env({ k: i, t: i, x: 0 }, i));
    assert.ok(op.keyCounts().g! < 5000, `kept ${op.keyCounts().g} keys`);
  });

  it('rejects bad specs with a clear error', () => {
    assert.throws(
      () => lookback<Ev>({ key: (e) => e.k, windows: [], aggregate: { n: count() } }),
      /at least one window/,
    );
    assert.throws(
      () => lookback<Ev>({ key: (e) => e.k, windows: [-1], aggregate: { n: count() } }),
      /window size must be > 0/,
    );
  });
});
