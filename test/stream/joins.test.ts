import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MemoryCheckpointStore,
  collect,
  fromArray,
  json,
  mergeSources,
  pipeline,
  table,
} from '../../src/stream/index.js';
import { seededRandom } from '../../src/core/random.js';

const profileSchema = { customerId: 'integer', segment: 'string' } as const;
const rows = (list: unknown[]) => list.map((r) => Buffer.from(typeof r === 'string' ? r : JSON.stringify(r)));

describe('stream-table join', () => {
  it('enriches each event with the latest row of its key; bad rows go to dead letters', async () => {
    const profiles = table({
      name: 'profiles',
      source: fromArray(
        rows([
          { customerId: 1, segment: 'gold' },
          { customerId: 2, segment: 'new' },
          '{bad',
          { customerId: 1, segment: 'platinum' },
        ]),
        { topic: 'profiles' },
      ),
      decode: json(profileSchema),
      key: (p) => p.customerId,
    });
    const out = collect<string>();
    const run = pipeline('enrich')
      .from(fromArray([1, 2, 3, 1], { topic: 'tx' }))
      .keyBy((c) => c)
      .joinTable(profiles, { as: (c, p) => `${c}:${p?.segment ?? 'unknown'}` })
      .to(out)
      .run();
    const s = await run.done;
    assert.deepEqual(out.values, ['1:platinum', '2:new', '3:unknown', '1:platinum']);
    assert.equal(s.counters.deadLetters, 1);
    assert.equal(run.deadLetters!.items[0]!.stage, 'table:profiles');
    assert.equal(s.counters.processed + s.counters.deadLetters, s.counters.in + 1);
  });

  it('resumes the table from its checkpoint (state and offsets), not from scratch', async () => {
    const store = new MemoryCheckpointStore();
    const profileRows = rows(Array.from({ length: 100 }, (_, i) => ({ customerId: i, segment: `s${i}` })));
    const mk = () =>
      table({
        name: 'p',
        source: fromArray(profileRows, { topic: 'profiles' }),
        decode: json(profileSchema),
        key: (p) => p.customerId,
      });
    const events = Array.from({ length: 5000 }, (_, i) => i % 120);
    const build = (out: { name: string; write: (r: { value: string }[]) => void }) =>
      pipeline('tbl')
        .from(fromArray(events, { topic: 'tx' }))
        .keyBy((c) => c)
        .joinTable(mk(), { key: (c) => c, as: (c, p) => `${c}:${p?.segment ?? '-'}` })
        .to(out);
    const got: string[] = [];
    // Stop early and often; on a loaded machine a run may do little before its stop, so allow many.
    for (let i = 0; i < 500 && got.length < events.length; i++) {
      const run = build({ name: 'o', write: (r) => void got.push(...r.map((x) => x.value)) }).run({
        checkpoints: store,
        checkpointIntervalMs: 1,
        batchSize: 100,
      });
      setTimeout(() => void run.stop(), 2);
      await run.done;
    }
    const meta = await store.load('tbl');
    assert.equal(meta!.offsets['profiles/0'], 100, 'the table source position is checkpointed');
    assert.deepEqual(
      got,
      events.map((c) => `${c}:${c < 100 ? `s${c}` : '-'}`),
    );
  });
});

describe('interval join', () => {
  it('pairs every left and right record of a key within the bound (brute-force reference)', async () => {
    const r = seededRandom(5);
    const mk = (n: number, side: string) => {
      let t = 0;
      return Array.from({ length: n }, (_, i) => {
        t += Math.floor(r() * 6);
        return { side, id: i, k: Math.floor(r() * 8), t: t - Math.floor(r() * 15) };
      });
    };
    const clicks = mk(3000, 'L');
    const orders = mk(3000, 'R');
    const within = 12;
    const out = collect<string>();
    const run = pipeline('ij')
      .from(mergeSources(fromArray(clicks, { topic: 'clicks' }), fromArray(orders, { topic: 'orders' })))
      .eventTime((e) => e.t)
      .keyBy((e) => e.k)
      .intervalJoin({
        isLeft: (e) => e.side === 'L',
        within,
        outOfOrderness: 15,
        as: (l, rr) => `${l.id}-${rr.id}`,
      })
      .to(out)
      .run({ batchSize: 16 });
    const s = await run.done;
    assert.equal(s.counters.late, 0);
    const want: string[] = [];
    for (const l of clicks)
      for (const o of orders) if (l.k === o.k && Math.abs(l.t - o.t) <= within) want.push(`${l.id}-${o.id}`);
    assert.ok(want.length > 1000);
    assert.deepEqual([...out.values].sort(), want.sort());
  });
});
