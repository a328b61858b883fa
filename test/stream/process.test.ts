import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  MemoryCheckpointStore,
  collect,
  fromArray,
  listState,
  pipeline,
  valueState,
  type CheckpointStore,
  type RecordKey,
} from '../../src/stream/index.js';

interface Reading {
  sensor: string;
  t: number;
  value: number;
}

const readings: Reading[] = Array.from({ length: 6000 }, (_, i) => ({
  sensor: `s${(i * 31) % 17}`,
  t: i,
  value: (i * 7919) % 50,
}));

/**
 * A processor that yields a jump per record whose value moved more than 20 from its sensor's
 * previous one, plus a "first" marker the first time a sensor is seen (two outputs then).
 */
const jumps = (name = 'jumps') =>
  pipeline(name)
    .from(fromArray(readings))
    .eventTime((r) => r.t)
    .keyBy((r) => r.sensor)
    .process({
      name: 'jumps',
      state: { last: valueState<number>(), seen: listState<number>({ maxLength: 2 }) },
      *onRecord(r: Reading, ctx) {
        const prev = ctx.state.last.get();
        ctx.state.last.set(r.value);
        ctx.state.seen.add(r.t);
        if (prev === undefined) yield `first ${ctx.key}`;
        if (prev === undefined || Math.abs(r.value - prev) > 20)
          yield `${ctx.key}@${ctx.eventTime}:${prev ?? '-'}->${r.value}`;
      },
    });

/** What the processor must emit, computed with a plain Map. */
function expected(): string[] {
  const last = new Map<string, number>();
  const out: string[] = [];
  for (const r of readings) {
    const prev = last.get(r.sensor);
    last.set(r.sensor, r.value);
    if (prev === undefined) out.push(`first ${r.sensor}`);
    if (prev === undefined || Math.abs(r.value - prev) > 20)
      out.push(`${r.sensor}@${r.t}:${prev ?? '-'}->${r.value}`);
  }
  return out;
}

async function runInterrupted(store: CheckpointStore): Promise<string[]> {
  const parts: string[] = [];
  const want = expected().length;
  // Stop early and often; on a loaded machine a run may do little before its stop, so allow many.
  for (let attempt = 0; attempt < 500 && parts.length < want; attempt++) {
    const run = jumps()
      .to({ name: 'p', write: (recs) => void parts.push(...recs.map((r) => r.value)) })
      .run({ checkpoints: store, checkpointIntervalMs: 1, batchSize: 300 });
    setTimeout(() => void run.stop(), 3);
    await run.done;
  }
  return parts;
}

describe('custom stateful operators: KeyedStream.process()', () => {
  it('yields zero, one or more values per record from per-key state', async () => {
    const out = collect<string>();
    await jumps().to(out).run({ batchSize: 256 }).done;
    assert.deepEqual(out.values, expected());
  });

  it('gives each further output of a record its own id (and so its own idempotency key)', async () => {
    const ids: string[] = [];
    await jumps()
      .to({
        name: 'ids',
        write: (recs) => void ids.push(...recs.map((r) => r.id ?? `${r.topic}-${r.partition}@${r.offset}`)),
      })
      .run().done;
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids[0], 'array-0@0');
    assert.equal(ids[1], 'jumps-s0@array-0@0#1');
  });

  it('keeps its state across stops and restarts from checkpoints: same output as one run', async () => {
    const store = new MemoryCheckpointStore();
    const got = await runInterrupted(store);
    assert.deepEqual(got, expected());
  });

  it('sends a record whose onRecord throws to the dead letters, sending nothing on for it', async () => {
    const out = collect<number>();
    const run = pipeline('throws')
      .from(fromArray([1, 2, 3, 4]))
      .keyBy(() => 'k')
      .process({
        state: { n: valueState<number>() },
        *onRecord(x: number, ctx) {
          yield x * 10;
          if (x === 3) throw new Error('three is bad');
          ctx.state.n.set((ctx.state.n.get() ?? 0) + x);
          yield ctx.state.n.get()!;
        },
      })
      .to(out)
      .run();
    const s = await run.done;
    assert.deepEqual(out.values, [10, 1, 20, 3, 40, 7]);
    assert.equal(s.counters.deadLetters, 1);
    assert.equal(run.deadLetters!.items[0]!.stage, 'process');
    assert.match(run.deadLetters!.items[0]!.reason, /three is bad/);
  });

  it('onStart sees the restored state of every key; beforeCheckpoint writes state at each barrier', async () => {
    const store = new MemoryCheckpointStore();
    // An outside model whose state is costly to save per record: snapshotted at barriers only.
    const model = new Map<RecordKey, number>();
    const touched = new Set<RecordKey>();
    const restored = new Map<RecordKey, number>();
    const build = (input: number[]) =>
      pipeline('outside')
        .from(fromArray(input))
        .keyBy((x) => x % 3)
        .process({
          name: 'snap',
          state: { total: valueState<number>() },
          onStart(state) {
            for (const key of state.keys()) restored.set(key, state.of(key).total.get()!);
          },
          onRecord(x: number, ctx) {
            model.set(ctx.key, (model.get(ctx.key) ?? 0) + x);
            touched.add(ctx.key);
            return [x]; // an array works as well as a generator
          },
          beforeCheckpoint(state) {
            for (const key of touched) state.of(key).total.set(model.get(key)!);
            touched.clear();
          },
        })
        .to(collect());
    await build([1, 2, 3, 4, 5, 6]).run({ checkpoints: store, checkpointIntervalMs: 1 }).done;
    assert.deepEqual([...restored], []);
    await build([1, 2, 3, 4, 5, 6]).run({ checkpoints: store, checkpointIntervalMs: 1 }).done;
    assert.deepEqual(
      [...restored].sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [0, 9],
        [1, 5],
        [2, 7],
      ],
    );
  });

  it('the example in docs/stream.md runs and prints what it says', () => {
    const doc = readFileSync(new URL('../../docs/stream.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Custom stateful operators'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const src = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
    const testing = fileURLToPath(new URL('../../src/testing.ts', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'sluice-doc-'));
    try {
      const file = join(dir, 'example.mts'); // an ES module outside the package: top-level await
      writeFileSync(
        file,
        code
          .replace("from 'sluice/testing'", `from ${JSON.stringify(testing)}`)
          .replace("from 'sluice'", `from ${JSON.stringify(src)}`),
      );
      const p = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8' });
      assert.equal(p.status, 0, p.stderr);
      const printed = /console\.log\(out\.values\); \/\/ (.*)/.exec(code)![1]!;
      assert.equal(p.stdout.trim(), printed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
