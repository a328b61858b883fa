import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collect,
  count,
  distinctCount,
  fromArray,
  hopping,
  last,
  max,
  mean,
  min,
  pipeline,
  reduce,
  session,
  sum,
  tumbling,
  windowsOf,
  MemoryCheckpointStore,
  recordId,
  type Envelope,
  type Sink,
  type Source,
  type WindowAssigner,
} from '../../src/stream/index.js';
import { seededRandom } from '../../src/core/random.js';

interface Ev {
  k: number;
  t: number;
  x: number;
}

/** Events in rough time order: most on time, some up to `jitter` late, a few far behind (late). */
function events(n: number, seed: number, jitter: number, farLate: number): Ev[] {
  const r = seededRandom(seed);
  let t = 10_000;
  return Array.from({ length: n }, () => {
    t += Math.floor(r() * 4);
    let et = t - Math.floor(r() * jitter);
    if (r() < farLate) et = t - 500 - Math.floor(r() * 500);
    return { k: Math.floor(r() * 30), t: et, x: Math.round(r() * 1000) / 10 };
  });
}

const aggregates = {
  n: count<Ev>(),
  s: sum<Ev>((e) => e.x),
  m: mean<Ev>((e) => e.x),
  lo: min<Ev>((e) => e.x),
  hi: max<Ev>((e) => e.x),
  lastX: last<Ev, number>((e) => e.x),
};

/** The specification: a record is late when all its windows end at or before (max event time seen before it − ooo − lateness). */
function reference(evs: Ev[], assigner: WindowAssigner, ooo: number, lateness: number) {
  let maxSeen = -Infinity;
  const groups = new Map<string, Ev[]>();
  let late = 0;
  for (const e of evs) {
    maxSeen = Math.max(maxSeen, e.t);
    const closed = maxSeen - ooo - lateness;
    const wins = windowsOf(assigner, e.t).filter(([, end]) => end > closed);
    if (wins.length === 0) late++;
    for (const [start, end] of wins) {
      const id = `${e.k}|${start}|${end}`;
      if (!groups.has(id)) groups.set(id, []);
      groups.get(id)!.push(e);
    }
  }
  const results = [...groups].map(([id, es]) => {
    const [k, start, end] = id.split('|').map(Number);
    const xs = es.map((e) => e.x);
    const lastEv = es.reduce((a, b) => (b.t >= a.t ? b : a));
    return {
      key: k,
      start,
      end,
      n: es.length,
      s: xs.reduce((a, b) => a + b, 0),
      lo: Math.min(...xs),
      hi: Math.max(...xs),
      lastX: lastEv.x,
    };
  });
  return { results, late };
}

const sortResults = <R extends { key: unknown; start: number }>(rs: R[]) =>
  [...rs].sort((a, b) => a.start - b.start || Number(a.key) - Number(b.key));

async function runWindows(
  evs: Ev[],
  assigner: WindowAssigner,
  ooo: number,
  lateness: number,
  batchSize: number,
) {
  const out = collect<Record<string, number>>();
  const run = pipeline('w')
    .from(fromArray(evs))
    .eventTime((e) => e.t)
    .keyBy((e) => e.k)
    .window(assigner, { outOfOrderness: ooo, allowedLateness: lateness })
    .aggregate(aggregates)
    .to(out as never)
    .run({ batchSize });
  const summary = await run.done;
  return { out: out.values, summary, late: run.lateRecords! };
}

describe('event-time windows against a brute-force reference', () => {
  for (const [label, assigner] of [
    ['tumbling', tumbling({ size: 100 })],
    ['hopping', hopping({ size: 100, advance: 25 })],
  ] as const) {
    for (const batchSize of [1, 64, 1024]) {
      it(`${label}: out-of-order and late events, many keys, batch ${batchSize}`, async () => {
        const evs = events(6000, batchSize + label.length, 40, 0.01);
        const ooo = 50;
        const lateness = 20;
        const { out, summary, late } = await runWindows(evs, assigner, ooo, lateness, batchSize);
        const ref = reference(evs, assigner, ooo, lateness);
        assert.ok(ref.late > 10, `the input has late records (${ref.late})`);
        assert.equal(summary.counters.late, ref.late);
        assert.equal(late.count, ref.late);
        assert.match(late.items[0]!.reason, /^late: event time .* is behind the watermark/);
        // The bounded input's end closes every window that is still open.
        const expected = ref.results;
        const got = sortResults(out as unknown as (typeof expected)[number][]);
        const want = sortResults(expected);
        assert.equal(got.length, want.length);
        for (let i = 0; i < want.length; i++) {
          const g = got[i]!;
          const w = want[i]!;
          assert.deepEqual(
            [g.key, g.start, g.end, g.n, g.lo, g.hi, g.lastX],
            [w.key, w.start, w.end, w.n, w.lo, w.hi, w.lastX],
            `window ${i}`,
          );
          assert.ok(Math.abs(g.s - w.s) < 1e-6);
        }
      });
    }
  }

  it("reuses the source's envelopes once a window consumed them, and only then", async () => {
    const evs = events(5000, 7, 40, 0.01);
    // Every 97th record has no valid event time: a dead letter from the eventTime stage.
    const bad = (i: number) => i % 97 === 5;
    const build = (src: Source<Ev>, keep?: Envelope[]) => {
      const out = collect<Record<string, unknown>>();
      let s = pipeline('recycle').from(src);
      if (keep) s = s.map((v, env) => (keep.push(env), v));
      const run = s
        .eventTime((e) => (bad(evs.indexOf(e)) ? NaN : e.t))
        .keyBy((e) => e.k)
        .window(tumbling({ size: 100 }), { outOfOrderness: 50 })
        .aggregate(aggregates)
        .to(out as never)
        .run({ batchSize: 64 });
      return { out, run };
    };
    const plain = (src: Source<Ev>): Source<Ev> => ({ ...src, recycle: undefined }) as Source<Ev>;
    const strip = (d: { time: number }) => ({ ...d, time: 0 });

    // With and without reuse: the same results, late records and dead letters (offsets included).
    const src = fromArray(evs);
    let given = 0;
    const recycle = src.recycle!.bind(src);
    src.recycle = (recs) => {
      given++;
      recycle(recs);
    };
    const a = build(src);
    const b = build(plain(fromArray(evs)));
    await a.run.done;
    await b.run.done;
    assert.ok(given > 10, `batches were given back (${given})`);
    assert.deepEqual(a.out.values, b.out.values);
    assert.ok(a.run.lateRecords!.count > 10);
    assert.deepEqual(a.run.lateRecords!.items.map(strip), b.run.lateRecords!.items.map(strip));
    assert.equal(a.run.deadLetters!.count, Math.ceil((5000 - 5) / 97));
    assert.deepEqual(a.run.deadLetters!.items.map(strip), b.run.deadLetters!.items.map(strip));
    for (const l of a.run.lateRecords!.items)
      assert.equal(l.original, evs[l.offset], 'late record is itself');

    // A map before the window hands envelopes to user code, which may keep them: no reuse.
    const kept: Envelope[] = [];
    const c = build(fromArray(evs), kept);
    await c.run.done;
    assert.deepEqual(c.out.values, a.out.values);
    assert.equal(kept.length, 5000);
    kept.forEach((env, i) => {
      assert.equal(env.offset, i);
      assert.equal(env.value, evs[i]);
    });
  });

  it('with reused envelopes, stop + resume from checkpoints gives the windows of one uninterrupted run', async () => {
    const evs = events(20_000, 11, 40, 0.01);
    const build = (out: Sink<Record<string, unknown>>) =>
      pipeline('recycle-resume')
        .from(fromArray(evs))
        .eventTime((e) => e.t)
        .keyBy((e) => e.k)
        .window(tumbling({ size: 100 }), { outOfOrderness: 50 })
        .aggregate({ n: count<Ev>(), s: sum<Ev>((e) => e.x), hi: max<Ev>((e) => e.x) })
        .to(out);
    const whole = collect<Record<string, unknown>>();
    const first = build(whole).run({ batchSize: 128 });
    await first.done;

    const store = new MemoryCheckpointStore();
    const parts: Record<string, unknown>[] = [];
    let late = 0;
    const sink: Sink<Record<string, unknown>> = {
      name: 'parts',
      write: (recs) => void parts.push(...recs.map((r) => ({ id: recordId(r), ...r.value }))),
    };
    let runs = 0;
    for (let done = false; !done && runs < 500; runs++) {
      const run = build(sink).run({ batchSize: 128, checkpoints: store, checkpointIntervalMs: 1 });
      setTimeout(() => void run.stop(), 2);
      const s = await run.done;
      late = s.counters.late;
      done = !s.stopped;
    }
    assert.ok(runs > 1, 'the run was stopped and resumed');
    // Effects after the last checkpoint are replayed (at least once): dedupe by result id.
    const byId = new Map<unknown, Record<string, unknown>>();
    for (const p of parts) {
      if (byId.has(p.id)) assert.deepEqual(p, byId.get(p.id), 'a replayed result is the same');
      byId.set(p.id, p);
    }
    const got = sortResults([...byId.values()].map(({ id: _id, ...r }) => r) as never[]);
    assert.deepEqual(got, sortResults(whole.values as never[]));
    assert.equal(late, first.lateRecords!.count, 'late records counted once, restored from the checkpoint');
  });

  it('fromArray refills envelopes given back instead of allocating new ones', async () => {
    const src = fromArray([10, 11, 12, 13, 14], { eventTime: (v) => v * 1000 });
    await src.open({ pipeline: 'p', startOffsets: undefined });
    const first = (await src.poll(3))!;
    first[1]!.key = 'k';
    src.recycle!(first);
    const second = (await src.poll(3))!;
    assert.equal(second, first, 'the same array');
    assert.equal(second.length, 2, 'cut to what was left');
    assert.deepEqual(
      second.map((e) => [e.value, e.key, e.offset, e.eventTime, e.appendTime, e.topic, e.partition]),
      [
        [13, undefined, 3, 13_000, 13_000, 'array', 0],
        [14, undefined, 4, 14_000, 14_000, 'array', 0],
      ],
    );
    assert.equal(second[0]!.stamps, second[1]!.stamps, 'one stamps array per batch');
    assert.equal(await src.poll(3), null);
  });

  it('session windows: split by gap per key, merged when a record bridges two sessions', async () => {
    const r = seededRandom(9);
    const evs: Ev[] = [];
    let t = 0;
    for (let i = 0; i < 3000; i++) {
      t += r() < 0.05 ? 200 : Math.floor(r() * 10);
      evs.push({ k: Math.floor(r() * 5), t: t - Math.floor(r() * 20), x: 1 });
    }
    const gap = 60;
    const out = collect<{ key: number; start: number; end: number; n: number }>();
    await pipeline('s')
      .from(fromArray(evs))
      .eventTime((e) => e.t)
      .keyBy((e) => e.k)
      .window(session({ gap }), { outOfOrderness: 20 })
      .aggregate({ n: count() })
      .to(out as never)
      .run({ batchSize: 50 }).done;
    // Reference: sort each key's times, split where the gap to the previous is >= gap.
    const expected: { key: number; start: number; end: number; n: number }[] = [];
    for (let k = 0; k < 5; k++) {
      const ts = evs
        .filter((e) => e.k === k)
        .map((e) => e.t)
        .sort((a, b) => a - b);
      let start = ts[0]!;
      let n = 0;
      for (let i = 0; i < ts.length; i++) {
        if (i > 0 && ts[i]! - ts[i - 1]! >= gap) {
          expected.push({ key: k, start, end: ts[i - 1]! + gap, n });
          start = ts[i]!;
          n = 0;
        }
        n++;
      }
      expected.push({ key: k, start, end: ts.at(-1)! + gap, n });
    }
    assert.deepEqual(
      sortResults(out.values.map(({ key, start, end, n }) => ({ key, start, end, n }))),
      sortResults(expected),
    );
  });

  it("emit 'update' yields the running result on every record, with distinct ids", async () => {
    const evs: Ev[] = [0, 10, 20, 150, 160].map((t, i) => ({ k: 1, t, x: i + 1 }));
    const out = collect<{ start: number; n: number; s: number }>();
    const ids: string[] = [];
    const sink = {
      ...out,
      name: 'c',
      write: (recs: { id?: string; value: { start: number; n: number; s: number } }[]) =>
        recs.forEach((r) => (ids.push(r.id!), out.values.push(r.value))),
    };
    await pipeline('u')
      .from(fromArray(evs))
      .eventTime((e) => e.t)
      .keyBy((e) => e.k)
      .window(tumbling({ size: 100 }))
      .aggregate({ n: count(), s: sum((e: Ev) => e.x) }, { emit: 'update' })
      .to(sink as never)
      .run().done;
    assert.deepEqual(
      out.values.map((v) => [v.start, v.n, v.s]),
      [
        [0, 1, 1],
        [0, 2, 3],
        [0, 3, 6],
        [100, 1, 4],
        [100, 2, 9],
      ],
    );
    assert.equal(new Set(ids).size, 5);
  });

  it('distinctCount estimates within a few percent; reduce folds custom state', async () => {
    const evs: Ev[] = Array.from({ length: 20_000 }, (_, i) => ({ k: 0, t: i % 1000, x: i % 5000 }));
    const out = collect<{ d: number; r: number[] }>();
    await pipeline('d')
      .from(fromArray(evs))
      .eventTime((e) => e.t)
      .keyBy((e) => e.k)
      .window(tumbling({ size: 1000 }))
      .aggregate({
        d: distinctCount((e: Ev) => e.x),
        r: reduce<Ev, number[]>(
          () => [0, 0],
          (a, e) => [a[0]! + 1, Math.max(a[1]!, e.x)],
        ),
      })
      .to(out as never)
      .run().done;
    const w = out.values[0]!;
    assert.ok(Math.abs(w.d - 5000) / 5000 < 0.1, `distinct ≈ ${w.d}`);
    assert.deepEqual(w.r, [20_000, 4999]);
  });

  it('an idle partition stops holding the watermark back', async () => {
    const { WatermarkTracker } = await import('../../src/stream/index.js');
    let now = 0;
    const wm = new WatermarkTracker({ outOfOrderness: 10, idleTimeoutMs: 1000, now: () => now });
    wm.observe('a', 100);
    wm.observe('b', 500);
    assert.equal(wm.current, 90);
    now = 2000;
    wm.observe('b', 900);
    wm.refresh();
    assert.equal(wm.current, 890, 'partition a is idle: b alone sets the watermark');
    wm.observe('a', 120);
    assert.equal(wm.current, 890, 'the watermark never goes back');
  });
});
