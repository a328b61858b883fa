import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamicBatcher, InferenceErrorCodes, SwappableModel } from '../../src/inference/index.js';
import { FakeModel, rowsOf, sleep } from './fake-model.js';

describe('SwappableModel (hot swap)', () => {
  it('swaps versions under load behind a batcher: no failed request, old versions finish their batches', async () => {
    const v1 = new FakeModel({ delayMs: 3, version: '1' });
    const v2 = new FakeModel({ delayMs: 3, version: '2', offset: 1000 });
    const v3 = new FakeModel({ delayMs: 3, version: '3', offset: 2000 });
    const live = new SwappableModel(v1);
    const batcher = new DynamicBatcher(live, {
      maxBatchSize: 16,
      maxQueueDelayMicros: 500,
      maxInFlightBatches: 3,
    });
    let stop = false;
    let ok = 0;
    const failures: unknown[] = [];
    const seen = new Set<number>();
    const caller = async (c: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const value = (c * 7 + i) % 10;
        try {
          const out = await batcher.run(rowsOf(value));
          const s = (out.score!.data as Float32Array)[0]! - value * 3;
          assert.ok([0, 1000, 2000].includes(s), `score offset ${s}`);
          seen.add(s);
          ok++;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const callers = Array.from({ length: 24 }, (_, c) => caller(c));
    await sleep(40);
    await live.swap(async () => {
      await sleep(20); // loading takes a while; v1 keeps serving meanwhile
      return v2;
    });
    assert.equal(v1.closed, true, 'v1 is closed once its batches are done');
    await sleep(40);
    await live.swap(v3);
    await sleep(40);
    stop = true;
    await Promise.all(callers);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `${ok} requests`);
    assert.deepEqual([...seen].sort(), [0, 1000, 2000]);
    assert.equal(v1.ranWhileClosed + v2.ranWhileClosed, 0, 'no batch ran on a closed version');
    assert.equal(v2.closed, true);
    const s = live.stats();
    assert.equal(s.version, '3');
    assert.equal(s.swaps, 2);
    assert.equal(s.draining, 0);
    await batcher.close();
    assert.equal(v3.closed, true);
  });

  it('refuses a version whose inputs differ, keeping the live one and closing the newcomer', async () => {
    const live = new SwappableModel(new FakeModel({ width: 3 }));
    const wrong = new FakeModel({ width: 4, version: '2' });
    await assert.rejects(
      live.swap(wrong),
      (e: unknown) =>
        (e as { code: string }).code === InferenceErrorCodes.swapMismatch &&
        /input "features"/.test(String(e)),
    );
    assert.equal(wrong.closed, true);
    assert.equal(live.metadata.version, '1');
    assert.deepEqual(Array.from((await live.run(rowsOf(1))).score!.data as Float32Array), [3]);
    await assert.rejects(
      live.swap(() => Promise.reject(new Error('file not found'))),
      /file not found/,
    );
    assert.equal(live.stats().swaps, 0);
  });

  it('scores with both versions in shadow mode, records their disagreement, then promotes', async () => {
    const live = new SwappableModel(new FakeModel({ version: '1' }));
    const candidate = new FakeModel({ version: '2', offset: 0.25 });
    await live.shadow(candidate, { tolerance: 0.1, threshold: 6.1 });
    for (const v of [1, 2, 3]) {
      const out = await live.run(rowsOf(v));
      assert.ok(
        Math.abs((out.score!.data as Float32Array)[0]! - v * 3) < 1e-5,
        'callers get the live answer',
      );
    }
    await sleep(5);
    const shadow = live.stats().shadow!;
    assert.equal(shadow.version, '2');
    assert.equal(shadow.compared, 3);
    assert.equal(shadow.disagreements, 3);
    assert.equal(shadow.flips, 1, 'only 6 vs 6.25 falls on both sides of 6.1');
    assert.ok(Math.abs(shadow.maxAbsDiff - 0.25) < 1e-5);
    await live.promote();
    assert.equal(live.metadata.version, '2');
    assert.equal(live.stats().shadow, undefined);
    assert.equal(candidate.closed, false);
    await live.close();
    assert.equal(candidate.closed, true);
  });
});
