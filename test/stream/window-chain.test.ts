import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, pipeline, tumbling } from '../../src/index.js';
import { collect, fromArray, testDriver } from '../../src/testing.js';
import { max } from '../../src/stream/index.js';

describe('a window after a window', () => {
  it('closes its windows on a live source: its watermark follows the first window, not the quiet source', async () => {
    // 60 s of events, 10 keys: per key and second a count, then per 10 s the largest count.
    const events = Array.from({ length: 6_000 }, (_, i) => ({ k: i % 10, t: i * 10 }));
    // The driver's source stays open (a live topic) and never moves the watermark by itself.
    const driver = await testDriver<(typeof events)[number], { start: number; top: number }>((t) =>
      pipeline('chain')
        .from(t.input)
        .keyBy((e) => e.k)
        .window(tumbling({ size: 1_000 }), { name: 'per-second' })
        .aggregate({ n: count() })
        .keyBy(() => 0)
        .window(tumbling({ size: 10_000 }), { name: 'per-10s' })
        .aggregate({ top: max((r: { n: number }) => r.n) })
        .map((r) => ({ start: r.start, top: r.top }))
        .to(t.output),
    );
    await driver.sendAll(events, { eventTime: (e) => e.t });
    // Before the fix the second window waited for the source partition, which never carries
    // its input: nothing came out while the source stayed open.
    assert.deepEqual(
      driver.outputs.slice(0, 5),
      [0, 10_000, 20_000, 30_000, 40_000].map((start) => ({ start, top: 10 })),
    );
    await driver.close();
  });

  it("gets the first window's results in order of end time across keys, so none is late for it", async () => {
    // One batch (2 keys, 10 s) closes nine 1 s windows per key at once: before, each key's nine
    // came out together, and the second window took key 1's early ends as late records.
    const events = Array.from({ length: 2_000 }, (_, i) => ({ k: i % 2, t: i * 5 }));
    const ends = collect<number>();
    await pipeline('order')
      .from(fromArray(events, { eventTime: (e) => e.t }))
      .keyBy((e) => e.k)
      .window(tumbling({ size: 1_000 }), { name: 'per-second' })
      .aggregate({ n: count() })
      .map((r) => r.end)
      .to(ends)
      .run({ batchSize: 4096 }).done;
    assert.deepEqual(
      ends.values,
      [...ends.values].sort((a, b) => a - b),
    );
    const late = collect<{ start: number; top: number }>();
    const summary = await pipeline('order2')
      .from(fromArray(events, { eventTime: (e) => e.t }))
      .keyBy((e) => e.k)
      .window(tumbling({ size: 1_000 }), { name: 'per-second' })
      .aggregate({ n: count() })
      .keyBy(() => 0)
      .window(tumbling({ size: 1_000 }), { name: 'max-per-second' })
      .aggregate({ top: max((r: { n: number }) => r.n) })
      .map((r) => ({ start: r.start, top: r.top }))
      .to(late)
      .run({ batchSize: 512 }).done;
    assert.equal(summary.counters.late, 0);
    assert.deepEqual(
      late.values,
      Array.from({ length: 10 }, (_, i) => ({ start: i * 1_000, top: 100 })),
    );
  });
});
