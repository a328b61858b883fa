// Type-level tests of the stream DSL: `npm run typecheck` (tsconfig.json includes test/) fails
// when a line marked @ts-expect-error compiles, i.e. when an illegal pipeline becomes writable
// again. Nothing here runs; the run-time guards for JavaScript callers are in keyed-types.test.ts.

import {
  collect,
  count,
  fromArray,
  max,
  pipeline,
  reduce,
  session,
  table,
  tumbling,
  valueState,
  json,
  type WindowResult,
} from '../../src/stream/index.js';

interface Tx {
  card: string;
  t: number;
  amount: number;
}

export function illegalPipelinesDoNotCompile(): void {
  const tx = pipeline('types').from(fromArray<Tx>([]));
  const profiles = table({
    name: 'profiles',
    source: fromArray<unknown>([]),
    decode: json({ card: 'string' }),
    key: (p) => p.card,
  });

  // Keyed stages exist only after keyBy().
  // @ts-expect-error window() needs .keyBy() first
  void tx.window(tumbling({ size: 1000 }));
  // @ts-expect-error withState() needs .keyBy() first
  void tx.withState({ n: valueState<number>() }, (t) => t);
  // @ts-expect-error process() needs .keyBy() first
  void tx.process({ state: {}, onRecord: () => {} });
  // @ts-expect-error joinTable() needs .keyBy() first
  void tx.joinTable(profiles, { as: (t) => t });
  // @ts-expect-error intervalJoin() needs .keyBy() first
  void tx.intervalJoin({ isLeft: () => true, within: 10, as: (a) => a });
  // Stages that do not keep the key do not hide that: a map after keyBy is still keyed.
  void tx
    .keyBy((t) => t.card)
    .map((t) => t.amount)
    .withState({ n: valueState<number>() }, (a) => a);

  // Session windows merge sessions: a reduce without a merge is refused.
  const keyed = tx.keyBy((t) => t.card).eventTime((t) => t.t);
  const noMerge = reduce(
    () => 0,
    (a: number, t: Tx) => a + t.amount,
  );
  // @ts-expect-error session windows need aggregates that merge
  void keyed.window(session({ gap: 1000 })).aggregate({ total: noMerge });
  void keyed.window(tumbling({ size: 1000 })).aggregate({ total: noMerge }); // fixed windows never merge
  void keyed.window(session({ gap: 1000 })).aggregate({
    n: count(),
    total: reduce(
      () => 0,
      (a: number, t: Tx) => a + t.amount,
      (a, b) => a + b,
    ),
  });

  // One way to name a stage: { name }.
  // @ts-expect-error a trailing string name is the old style
  void tx.map((t) => t.amount, 'amount');
  // @ts-expect-error a trailing string name is the old style
  void tx.keyBy((t) => t.card, 'byCard');
  // @ts-expect-error a leading string name is the old style
  void tx.mapBatch('lookup', async (ts: Tx[]) => ts);
  void tx.map((t) => t.amount, { name: 'amount' }).mapBatch(async (xs) => xs, { name: 'lookup' });

  // Window results: { key, start, end, ...aggregates }; max() is null for an empty window.
  void keyed
    .window(tumbling({ size: 1000 }), { outOfOrderness: 100, allowedLateness: 0, name: 'perMinute' })
    .aggregate({ n: count(), top: max((t: Tx) => t.amount) })
    .map((r) => {
      const key: string | number = r.key;
      const bounds: number = r.end - r.start;
      const top: number | null = r.top;
      // @ts-expect-error max() may be null
      const notNull: number = r.top;
      return [key, bounds, top, notNull, r.n];
    })
    .to(collect());
  const result: WindowResult<{ n: number }> = { key: 'card', start: 0, end: 1000, n: 1 };
  void result;
}
