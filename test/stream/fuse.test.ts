import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  collect,
  count,
  fromArray,
  pipeline,
  sum,
  tumbling,
  type FusedInputs,
} from '../../src/stream/index.js';
import { fuseExtractors } from '../../src/stream/fuse.js';
import type { Step, SyncStep } from '../../src/stream/steps.js';

interface Ev {
  k: number;
  t: number;
  x: number;
}

const time = (e: Ev) => e.t;
const key = (e: Ev) => e.k;

/** The steps of a stream ending in a window, with the window's `fuseInputs` calls recorded. */
function stepsOf(build: 'time-key' | 'key-time' | 'time-map' | 'window'): {
  steps: readonly Step[];
  calls: (FusedInputs | undefined)[];
} {
  const base = pipeline('f').from(fromArray<Ev>([]));
  // Windows need a key: the unfused builds put another stage between keyBy and the window.
  const s =
    build === 'time-key'
      ? base.eventTime(time).keyBy(key)
      : build === 'key-time'
        ? base.keyBy(key).eventTime(time)
        : build === 'time-map'
          ? base
              .eventTime(time)
              .keyBy(key)
              .map((e) => e)
          : base.keyBy(key).filter(() => true);
  const steps = s.window(tumbling({ size: 10 })).aggregate({ n: count() }).steps;
  const calls: (FusedInputs | undefined)[] = [];
  const win = steps[steps.length - 1] as SyncStep;
  const fuse = win.fuseInputs!;
  win.fuseInputs = (inputs) => {
    calls.push(inputs);
    fuse(inputs);
  };
  return { steps, calls };
}

describe('fusing eventTime and keyBy into the window that follows them', () => {
  it('eventTime → keyBy → window: both run in the window, the stages stay as named no-ops', () => {
    const { steps, calls } = stepsOf('time-key');
    const fused = fuseExtractors(steps);
    assert.deepEqual(
      fused.map((s) => s.name),
      steps.map((s) => s.name),
    );
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.eventTime!.fn, time);
    assert.equal(calls[0]!.eventTime!.stage, 'eventTime');
    assert.equal(calls[0]!.key!.fn, key);
    assert.equal(calls[0]!.key!.stage, 'keyBy');
    assert.notEqual(fused[0]!.process, steps[0]!.process);
    assert.notEqual(fused[1]!.process, steps[1]!.process);
    assert.equal((fused[0] as SyncStep).passive, true, 'still passive: the source may still recycle');
    assert.equal(fused[2], steps[2]);
    // The stream's own steps are untouched: it can run again, unfused elsewhere.
    assert.ok(steps[0]!.process !== fused[0]!.process && typeof steps[0]!.process === 'function');
  });

  it('keyBy → eventTime → window fuses eventTime only, keeping the declared order', () => {
    const { steps, calls } = stepsOf('key-time');
    const fused = fuseExtractors(steps);
    assert.equal(calls[0]!.key, undefined);
    assert.equal(calls[0]!.eventTime!.fn, time);
    assert.equal(fused[0], steps[0], 'keyBy runs as its own stage');
    assert.notEqual(fused[1]!.process, steps[1]!.process);
  });

  it('nothing is fused across another stage, and a run without fusion resets the window', () => {
    for (const build of ['time-map', 'window'] as const) {
      const { steps, calls } = stepsOf(build);
      const fused = fuseExtractors(steps);
      assert.deepEqual(calls, [undefined], build);
      fused.forEach((s, i) => assert.equal(s, steps[i], `${build}: step ${i}`));
    }
  });

  it('a fused run gives the results, late records and dead letters of an unfused one', async () => {
    // Every 89th record has no event time, every 97th a key function that throws: dead letters
    // of the eventTime and keyBy stages; far-behind records are late.
    const evs: Ev[] = Array.from({ length: 4000 }, (_, i) => ({
      k: i % 13,
      t: i % 53 === 0 ? i * 10 - 900 : i * 10,
      x: i % 7,
    }));
    const index = new Map(evs.map((e, i) => [e, i]));
    const noTime = (i: number) => i % 89 === 3;
    const noKey = (i: number) => i % 97 === 5;
    const run = async (fusedRun: boolean, batchSize: number) => {
      const out = collect<Record<string, unknown>>();
      let s = pipeline('f')
        .from(fromArray(evs))
        .eventTime((e) => (noTime(index.get(e)!) ? NaN : e.t))
        .keyBy((e) => {
          if (noKey(index.get(e)!)) throw new Error(`no key for ${e.t}`);
          return e.k;
        });
      // A map in between keeps the window from fusing the two stages before it.
      if (!fusedRun) s = s.map((e) => e);
      const r = s
        .window(tumbling({ size: 100 }), { outOfOrderness: 200 })
        .aggregate({ n: count(), s: sum((e: Ev) => e.x) })
        .to(out)
        .run({ batchSize });
      const summary = await r.done;
      const byOffset = <D extends { offset: number; time: number }>(ds: D[]) =>
        ds.map((d) => ({ ...d, time: 0 })).sort((a, b) => a.offset - b.offset);
      return {
        results: out.values,
        dead: byOffset(r.deadLetters!.items),
        late: byOffset(r.lateRecords!.items),
        stages: Object.fromEntries(Object.entries(summary.latencyMs.stages).map(([k, v]) => [k, v.count])),
      };
    };
    for (const batchSize of [1, 64]) {
      const a = await run(true, batchSize);
      const b = await run(false, batchSize);
      assert.deepEqual(a.results, b.results, `batch ${batchSize}: results`);
      assert.deepEqual(a.late, b.late, `batch ${batchSize}: late records`);
      assert.ok(a.late.length > 20, `late records: ${a.late.length}`);
      assert.deepEqual(a.dead, b.dead, `batch ${batchSize}: dead letters`);
      const offsets = evs.map((_, i) => i);
      const wantTime = offsets.filter(noTime);
      const wantKey = offsets.filter((i) => !noTime(i) && noKey(i));
      assert.deepEqual(
        a.dead.filter((d) => d.stage === 'eventTime').map((d) => d.offset),
        wantTime,
      );
      assert.deepEqual(
        a.dead.filter((d) => d.stage === 'keyBy').map((d) => d.offset),
        wantKey,
      );
      assert.match(a.dead.find((d) => d.stage === 'eventTime')!.reason, /event time must be a finite number/);
      assert.match(a.dead.find((d) => d.stage === 'keyBy')!.reason, /no key for/);
      // The fused stages are still listed; their records are all those read (the window does
      // their work and drops the rejected ones), where unfused stages count what passed them.
      assert.equal(a.stages.eventTime, evs.length);
      assert.equal(b.stages.eventTime, evs.length - wantTime.length);
      assert.equal(a.stages.window, b.stages.window);
    }
  });
});
