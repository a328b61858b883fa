import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SluiceError,
  collect,
  count,
  fromArray,
  json,
  lookback,
  mean,
  pipeline,
  tumbling,
  MemoryCheckpointStore,
  type CheckpointMeta,
  type StateChange,
  type Envelope,
  type ModelLike,
  type Sink,
  type Source,
} from '../../src/stream/index.js';
import { fakeModel, testDriver } from '../../src/testing.js';

const bytes = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

class MemoryCheckpoints extends MemoryCheckpointStore {
  saved: CheckpointMeta[] = [];
  onSave?: (cp: CheckpointMeta) => void;
  override async save(meta: CheckpointMeta, changes: StateChange[]) {
    this.onSave?.(meta);
    this.saved.push(structuredClone(meta));
    return super.save(meta, changes);
  }
}

describe('pipeline DSL and runtime', () => {
  it('decodes, filters, maps and keys; bad records go to dead letters with reasons', async () => {
    const input = [
      bytes({ id: 1, v: 5 }),
      bytes('{oops'),
      bytes({ id: 2, v: -1 }),
      bytes({ id: 3, v: 'x' }),
      bytes({ id: 4, v: 7 }),
    ];
    const out = collect<{ id: number; double: number }>();
    const run = pipeline('t')
      .from(fromArray(input))
      .decode(json({ id: 'integer', v: 'number' }))
      .filter((r) => r.v > 0)
      .keyBy((r) => r.id)
      .map((r) => ({ id: r.id, double: r.v * 2 }))
      .to(out)
      .run();
    const s = await run.done;
    assert.deepEqual(out.values, [
      { id: 1, double: 10 },
      { id: 4, double: 14 },
    ]);
    assert.equal(s.counters.in, 5);
    assert.equal(s.counters.deadLetters, 2);
    assert.equal(s.counters.processed, 3); // 2 kept + 1 filtered out
    assert.deepEqual(
      run.deadLetters!.items.map((d) => [d.offset, d.stage, /JSON|amount|"v"/.test(d.reason)]),
      [
        [1, 'decode', true],
        [3, 'decode', true],
      ],
    );
    assert.equal(String(run.deadLetters!.items[0]!.original), '{oops');
  });

  it('a throwing map sends only that record to dead letters', async () => {
    const out = collect<number>();
    const s = await pipeline('t')
      .from(fromArray([1, 2, 3]))
      .map((x) => {
        if (x === 2) throw new Error('two is bad');
        return x * 10;
      })
      .to(out)
      .run().done;
    assert.deepEqual(out.values, [10, 30]);
    assert.equal(s.counters.deadLetters, 1);
  });

  it('times every stage and end to end', async () => {
    const s = await pipeline('t')
      .from(fromArray(Array.from({ length: 5000 }, (_, i) => i)))
      .map((x) => x + 1, { name: 'inc' })
      .filter((x) => x % 2 === 0, { name: 'even' })
      .to(collect())
      .run({ batchSize: 100 }).done;
    assert.deepEqual(Object.keys(s.latencyMs.stages), ['inc', 'even', 'sink:collect']);
    assert.equal(s.latencyMs.stages.inc!.count, 5000);
    assert.equal(s.latencyMs.stages['sink:collect']!.count, 2500);
    assert.equal(s.latencyMs.e2e.count, 2500);
    assert.ok(s.latencyMs.e2e.p99 >= s.latencyMs.e2e.p50);
  });

  it('stamps each stage once per record whether or not the source shares stamps', async () => {
    // A window between passive stages and a map: the runtime takes the O(1) path where records
    // share one stamps array (fromArray) and the per-record one where they do not.
    const values = Array.from({ length: 3000 }, (_, i) => ({ k: i % 7, t: i * 1000 }));
    const run = async (shares: boolean) => {
      const source = fromArray(values);
      const src = shares ? source : { ...source, sharesStamps: false, poll: separateStamps(source) };
      const stampsSeen: number[] = [];
      const s = await pipeline('t')
        .from(src)
        .eventTime((v) => v.t)
        .keyBy((v) => v.k)
        .window(tumbling({ size: 10_000 }))
        .aggregate({ n: count() })
        .map((r, env) => {
          stampsSeen.push(env.stamps.length);
          return r;
        })
        .to(collect())
        .run({ batchSize: 128 }).done;
      const counts = Object.fromEntries(Object.entries(s.latencyMs.stages).map(([k, v]) => [k, v.count]));
      return { counts, stampsSeen };
    };
    const shared = await run(true);
    const separate = await run(false);
    const results = 300 * 7; // 10 s windows over 3,000 s, every key in each
    assert.deepEqual(shared.counts, {
      eventTime: 3000,
      keyBy: 3000,
      window: results,
      map: results,
      'sink:collect': results,
    });
    assert.deepEqual(separate.counts, shared.counts);
    // A result is made in the window (stamp 0), then stamped by the window and by nothing else before map.
    assert.ok(shared.stampsSeen.every((n) => n === 2));
    assert.ok(separate.stampsSeen.every((n) => n === 2));
  });

  it('pauses the source when the sink is slow (bounded queues)', async () => {
    let read = 0;
    let written = 0;
    let maxAhead = 0;
    const src = fromArray(Array.from({ length: 4000 }, (_, i) => i));
    const poll = src.poll.bind(src);
    src.poll = async (max) => {
      const r = await poll(max);
      read += r?.length ?? 0;
      maxAhead = Math.max(maxAhead, read - written);
      return r;
    };
    const slow: Sink<number> = {
      name: 'slow',
      async write(recs) {
        await new Promise((r) => setTimeout(r, 5));
        written += recs.length;
      },
    };
    await pipeline('t').from(src).to(slow).run({ batchSize: 100, queueCapacity: 2 }).done;
    assert.equal(written, 4000);
    // capacity 2 queued + 1 in the sink + 1 being put: never more than 4 batches ahead.
    assert.ok(maxAhead <= 400, `source ran ${maxAhead} records ahead of the sink`);
  });

  it('saves checkpoints only for records whose sink write completed', async () => {
    const store = new MemoryCheckpoints();
    let writtenUpTo = 0;
    store.onSave = (cp) =>
      assert.ok(
        cp.offsets['array/0']! <= writtenUpTo,
        `checkpoint at ${cp.offsets['array/0']} but sink done up to ${writtenUpTo}`,
      );
    const sink: Sink<number> = {
      name: 's',
      async write(recs) {
        await new Promise((r) => setTimeout(r, 1));
        writtenUpTo = recs.at(-1)!.offset + 1;
      },
    };
    await pipeline('t')
      .from(fromArray(Array.from({ length: 20_000 }, (_, i) => i)))
      .to(sink)
      .run({ checkpoints: store, checkpointIntervalMs: 5, batchSize: 200 }).done;
    assert.ok(store.saved.length >= 3, `only ${store.saved.length} checkpoints`);
    assert.equal(store.saved.at(-1)!.offsets['array/0'], 20_000);
  });

  it('stop + resume from the checkpoint gives the same results as one uninterrupted run', async () => {
    const events = Array.from({ length: 30_000 }, (_, i) => ({ k: i % 37, t: i * 10, x: (i * 7919) % 101 }));
    const build = (out: Sink<number[]>) =>
      pipeline('resumable')
        .from(fromArray(events))
        .eventTime((e) => e.t)
        .features({
          g: lookback({
            key: (e: { k: number }) => e.k,
            windows: [500, 5000],
            aggregate: { n: count(), m: mean((e: { x: number }) => e.x) },
          }),
        })
        .map((e) => [...e.features])
        .to(out);
    const whole = collect<number[]>();
    await build(whole).run({ batchSize: 256 }).done;

    const store = new MemoryCheckpoints();
    const parts: number[][] = [];
    const sinkFor = (): Sink<number[]> => ({
      name: 'p',
      write: (recs: Envelope<number[]>[]) => void parts.push(...recs.map((r) => r.value)),
    });
    // Stop early and often; on a loaded machine a run may do little before its stop, so allow many.
    for (let attempt = 0; attempt < 500 && parts.length < events.length; attempt++) {
      const run = build(sinkFor()).run({ batchSize: 256, checkpoints: store, checkpointIntervalMs: 1 });
      setTimeout(() => void run.stop(), 3);
      const s = await run.done;
      assert.equal(s.resumed, attempt > 0);
    }
    assert.equal(parts.length, events.length);
    assert.deepEqual(parts, whole.values);
  });

  it('feeds a model one call per batch and maps its output', async () => {
    const model = fakeModel({ width: 2, score: (row) => row[0]! + row[1]! });
    const driver = await testDriver<number, number>(
      (t) =>
        pipeline('m')
          .from(t.input)
          .infer(model, { width: 2, input: (i) => [i, 1], output: (_i, row) => row[0]! })
          .to(t.output),
      { batchSize: 250 },
    );
    await driver.sendAll(Array.from({ length: 1000 }, (_, i) => i));
    assert.equal(model.calls, 4);
    assert.deepEqual(
      driver.outputs,
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    await driver.close();
  });

  it('refuses to start when the model input does not match the features, naming the mismatch', async () => {
    const model: ModelLike = {
      metadata: { inputs: [{ name: 'x', dims: ['N', 3] }], outputs: [{ name: 'y', dims: ['N', 1] }] },
      run: async () => ({}),
    };
    const run = pipeline('m')
      .from(fromArray([1]))
      .infer(model, { width: 2, input: () => [0, 0], output: () => 0 })
      .to(collect())
      .run();
    await assert.rejects(
      run.done,
      (e: unknown) =>
        e instanceof SluiceError &&
        e.code === 'SLUICE_PIPELINE_MODEL_MISMATCH' &&
        /expects 3 features per row, the pipeline gives 2/.test(e.message),
    );
  });

  it('a failing model call sends the batch to dead letters and the pipeline goes on', async () => {
    const model = fakeModel();
    const driver = await testDriver<number, number>((t) =>
      pipeline('m')
        .from(t.input)
        .infer(model, { width: 1, input: (i) => [i], output: (i) => i })
        .to(t.output),
    );
    const tens = (from: number) => Array.from({ length: 10 }, (_, i) => from + i);
    await driver.sendAll(tens(0));
    model.failNext(1, 'error');
    await driver.sendAll(tens(10));
    await driver.sendAll(tens(20));
    assert.deepEqual(driver.outputs, [...tens(0), ...tens(20)]);
    assert.equal(driver.deadLetters.length, 10);
    assert.match(driver.deadLetters[0]!.reason, /inference failed: fake model: failed/);
    await driver.close();
  });

  it('validates options with clear errors', () => {
    assert.throws(() => pipeline('bad name!'), /pipeline name/);
    assert.throws(
      () =>
        pipeline('p')
          .from(fromArray([1]))
          .to(collect())
          .run({ batchSize: 0 }),
      /batchSize must be a positive integer/,
    );
  });
  it('saves checkpoints in order while later batches go on, and a failed save fails the run', async () => {
    const input = Array.from({ length: 5000 }, (_, i) => bytes({ id: i }));
    const order: number[] = [];
    let inFlight = 0;
    const store = new MemoryCheckpoints();
    const slow = Object.assign(store, {
      async save(meta: CheckpointMeta, changes: StateChange[]) {
        inFlight++;
        assert.equal(inFlight, 1, 'one save at a time');
        await new Promise((r) => setTimeout(r, 5));
        order.push(meta.id);
        inFlight--;
        return MemoryCheckpointStore.prototype.save.call(store, meta, changes);
      },
    });
    const ok = pipeline('cp')
      .from(fromArray(input))
      .decode(json({ id: 'integer' }))
      .to(collect())
      .run({ checkpoints: slow, checkpointIntervalMs: 1, batchSize: 100 });
    const summary = await ok.done;
    assert.ok(order.length >= 2, `${order.length} checkpoints`);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'saved in barrier order',
    );
    assert.equal(summary.checkpoints, order.length, 'every save counted once it completed');

    const failing = new MemoryCheckpointStore();
    failing.save = async () => {
      throw new Error('disk full');
    };
    const bad = pipeline('cp2')
      .from(fromArray(input))
      .decode(json({ id: 'integer' }))
      .to(collect())
      .run({ checkpoints: failing, checkpointIntervalMs: 1, batchSize: 100 });
    await assert.rejects(bad.done, /disk full/);
  });
  it('checkpoints what was read before the stream went quiet, while it is still running', async () => {
    const store = new MemoryCheckpoints();
    // The driver's source stays open with nothing to give once read (a Kafka topic between bursts).
    const driver = await testDriver<Buffer>(
      (t) =>
        pipeline('quiet')
          .from(t.input)
          .decode(json({ id: 'integer' }))
          .to(t.output),
      { checkpoints: store, checkpointIntervalMs: 20 },
    );
    await driver.sendAll(Array.from({ length: 100 }, (_, i) => bytes({ id: i })));
    assert.equal(store.saved.length, 0);
    await driver.advanceTime(20); // quiet from here on: no record comes with the due barrier
    assert.ok(
      store.saved.some((m) => m.offsets['input/0'] === 100),
      'the last records were checkpointed before the run ended',
    );
    await driver.close();
  });
});

/** `poll` of `source`, with each record given its own copy of the stamps array. */
function separateStamps<T>(source: Source<T>): Source<T>['poll'] {
  return async (max) => {
    const recs = await source.poll(max);
    for (const r of recs ?? []) r.stamps = [...r.stamps];
    return recs;
  };
}
