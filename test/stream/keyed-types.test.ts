// The DSL's rules for JavaScript callers (TypeScript callers get them as type errors, see
// dsl-types.ts): each illegal pipeline is refused with a SluiceError when it is built.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SluiceError,
  collect,
  count,
  fromArray,
  pipeline,
  reduce,
  session,
  tumbling,
  type Step,
} from '../../src/stream/index.js';

/** A stream as JavaScript sees it: every method callable with anything. */
type Loose = Record<string, (...args: unknown[]) => Loose>;
const loose = (x: unknown) => x as Loose;

const refused = (code: string, message: RegExp) => (e: unknown) =>
  e instanceof SluiceError && e.code === code && message.test(e.message);

describe('the DSL refuses illegal pipelines when they are built', () => {
  it('keyed stages on an unkeyed stream: SLUICE_PIPELINE_INVALID naming the stage and keyBy', () => {
    const s = loose(pipeline('js').from(fromArray([1, 2, 3])));
    for (const method of ['window', 'withState', 'process', 'joinTable', 'intervalJoin']) {
      assert.throws(
        () => s[method]!({}),
        refused(
          'SLUICE_PIPELINE_INVALID',
          new RegExp(`^\\.${method}\\(\\) works per key: call \\.keyBy\\(fn\\) before it`),
        ),
        method,
      );
    }
    assert.throws(() => s.process!({}), /use \.mapBatch\(fn, \{ name \}\)/);
  });

  it('a hand-made keyed step with no keyBy before it is refused at .to(), not per record', () => {
    const keyed: Step = { kind: 'sync', name: 'mine', needsKey: true, process: () => {} };
    const s = pipeline('hand')
      .from(fromArray([1]))
      .withStep<number>(keyed);
    assert.throws(
      () => s.to(collect()),
      refused('SLUICE_PIPELINE_INVALID', /stage "mine" works per key but no \.keyBy\(\) comes before it/),
    );
    // With a keyBy first it builds.
    assert.ok(
      pipeline('hand')
        .from(fromArray([1]))
        .keyBy(String)
        .withStep<number>(keyed)
        .to(collect()),
    );
  });

  it('a session window with a reduce that cannot merge: SLUICE_OPTION_INVALID when built', () => {
    const keyed = loose(
      pipeline('sess')
        .from(fromArray([{ k: 'a', x: 1 }]))
        .keyBy((e) => e.k),
    );
    const sum = reduce(
      () => 0,
      (a: number, e: { x: number }) => a + e.x,
    );
    assert.throws(
      () => keyed.window!(session({ gap: 10 })).aggregate!({ n: count(), total: sum }),
      refused(
        'SLUICE_OPTION_INVALID',
        /session windows merge sessions.*give reduce\(\) its third argument \(merge\) for: total/,
      ),
    );
    // Tumbling windows never merge: the same reduce is fine there.
    assert.ok(keyed.window!(tumbling({ size: 10 })).aggregate!({ total: sum }));
  });

  it('a session window with a merging reduce merges bridged sessions', async () => {
    const out = collect<{ key: string; start: number; end: number; xs: number[] }>();
    const evs = [0, 5, 22, 13].map((t) => ({ k: 'a', t }));
    await pipeline('merge')
      .from(fromArray(evs))
      .eventTime((e) => e.t)
      .keyBy((e) => e.k)
      .window(session({ gap: 10 }), { outOfOrderness: 20 })
      .aggregate({
        xs: reduce(
          () => [] as number[],
          (a, e: { t: number }) => [...a, e.t],
          (a, b) => [...a, ...b].sort((x, y) => x - y),
        ),
      })
      .to(out as never)
      .run().done;
    // 13 bridges [0, 15) and [22, 32): one session [0, 32), merged and then given the 13.
    assert.deepEqual(JSON.parse(JSON.stringify(out.values)), [
      { key: 'a', start: 0, end: 32, xs: [0, 5, 22, 13] },
    ]);
  });

  it('stage names only as { name }: a string where the options go says what to write', () => {
    const s = loose(pipeline('names').from(fromArray([1])));
    assert.throws(
      () => s.map!((x: number) => x, 'double'),
      refused('SLUICE_OPTION_INVALID', /stage names are given as \{ name \}: write \{ name: "double" \}/),
    );
    assert.throws(() => s.keyBy!(String, 'byValue'), /write \{ name: "byValue" \}/);
    assert.throws(
      () => s.mapBatch!('lookup', async (xs: unknown[]) => xs),
      /takes the function first: write \{ name: "lookup" \} after it/,
    );
    const named = pipeline('names')
      .from(fromArray([1]))
      .map((x) => x * 2, { name: 'double' })
      .filter(() => true, { name: 'all' });
    assert.deepEqual(
      named.steps.map((st) => st.name),
      ['double', 'all'],
    );
  });
});
