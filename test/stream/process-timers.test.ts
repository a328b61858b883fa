import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MemoryCheckpointStore,
  collect,
  fromArray,
  pipeline,
  valueState,
  type CheckpointStore,
  type Envelope,
} from '../../src/stream/index.js';

interface Ping {
  k: string;
  t: number;
}

/** Per key: a timer `quiet` ms after each ping; it reports the key quiet if no ping came since. */
const quietKeys = (pings: Ping[], quiet = 50) =>
  pipeline('quiet')
    .from(fromArray(pings))
    .eventTime((p) => p.t)
    .keyBy((p) => p.k)
    .process({
      name: 'quiet',
      state: { last: valueState<number>() },
      onRecord(p: Ping, ctx) {
        ctx.state.last.set(p.t);
        ctx.setTimer(p.t + quiet);
      },
      *onTimer(time, ctx) {
        const last = ctx.state.last.get()!;
        if (last + quiet === time) yield `${ctx.key} quiet since ${last}`;
      },
    });

const HAND: Ping[] = [
  { k: 'a', t: 0 },
  { k: 'b', t: 5 },
  { k: 'a', t: 30 },
  { k: 'b', t: 100 },
  { k: 'a', t: 200 },
];

describe('keyed processors: event-time timers', () => {
  it('fire once the watermark passes them, before the record that moved it, whatever the batches', async () => {
    for (const batchSize of [1, 2, 1024]) {
      const out: Envelope<string>[] = [];
      await quietKeys(HAND)
        .to({ name: 'o', write: (recs) => void out.push(...recs) })
        .run({ batchSize }).done;
      assert.deepEqual(
        out.map((e) => e.value),
        ['b quiet since 5', 'a quiet since 30', 'b quiet since 100', 'a quiet since 200'],
        `batch ${batchSize}`,
      );
      // Timer outputs are keyed and timed by their timer, with ids of the one format.
      assert.deepEqual(
        out.map((e) => [e.key, e.eventTime, e.id]),
        [
          ['b', 55, 'quiet-b@timer:55'],
          ['a', 80, 'quiet-a@timer:80'],
          ['b', 150, 'quiet-b@timer:150'],
          ['a', 250, 'quiet-a@timer:250'],
        ],
      );
    }
  });

  it('pending timers and the watermark survive stops and restarts: the output of one run', async () => {
    const pings: Ping[] = Array.from({ length: 8000 }, (_, i) => ({
      k: `k${(i * 7919) % 23}`,
      t: i * 3 + ((i * 31) % 7),
    }));
    const whole = collect<string>();
    await quietKeys(pings, 40).to(whole).run({ batchSize: 333 }).done;
    assert.ok(whole.values.length > 100, `${whole.values.length} quiet reports`);

    const store: CheckpointStore = new MemoryCheckpointStore();
    const parts: string[] = [];
    let runs = 0;
    for (let attempt = 0; attempt < 500 && parts.length < whole.values.length; attempt++) {
      runs++;
      const run = quietKeys(pings, 40)
        .to({ name: 'p', write: (recs) => void parts.push(...recs.map((r) => r.value)) })
        .run({ checkpoints: store, checkpointIntervalMs: 1, batchSize: 97 });
      setTimeout(() => void run.stop(), 3);
      await run.done;
    }
    assert.ok(runs > 1, 'the run was stopped and resumed at least once');
    assert.deepEqual(parts, whole.values);
  });

  it('setTimer without onTimer, and an onTimer that throws, give dead letters with the reason', async () => {
    const noTimer = pipeline('no-timer')
      .from(fromArray([{ k: 'a', t: 1 }]))
      .keyBy((p) => p.k)
      .process({ state: {}, onRecord: (p, ctx) => ctx.setTimer(p.t + 1) })
      .to(collect())
      .run();
    await noTimer.done;
    assert.match(noTimer.deadLetters!.items[0]!.reason, /setTimer needs an onTimer in the processor/);

    const throws = pipeline('throws')
      .from(fromArray(HAND))
      .eventTime((p) => p.t)
      .keyBy((p) => p.k)
      .process({
        name: 'boom',
        state: {},
        onRecord: (p, ctx) => ctx.setTimer(p.t),
        onTimer(time) {
          if (time === 5) throw new Error('five');
          return [time];
        },
      })
      .to(collect<number>())
      .run();
    const s = await throws.done;
    assert.equal(s.counters.deadLetters, 1);
    assert.equal(throws.deadLetters!.items[0]!.stage, 'boom');
    assert.match(throws.deadLetters!.items[0]!.reason, /^timer at 5 of key b: five$/);
  });
});
