import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LmdbCheckpointStore, logSource, pipeline, type Stream } from '../../src/index.js';
import { Log } from '../../src/log/index.js';
import { collect, fromArray } from '../../src/testing.js';
import { nexmarkJson } from '../../examples/nexmark/decode.js';
import {
  FIRST_AUCTION_ID,
  FIRST_PERSON_ID,
  NexmarkGenerator,
  generateEvents,
  lastBase0AuctionId,
  lastBase0PersonId,
  type NexmarkEvent,
} from '../../examples/nexmark/generator.js';
import {
  QUERIES,
  type Q1Result,
  type Q2Result,
  type Q3Result,
  type Q4Result,
  type Q5Result,
  type Q7Result,
  type Q8Result,
  type Q11Result,
  type QueryName,
} from '../../examples/nexmark/queries/index.js';
import * as ref from '../../examples/nexmark/reference.js';

// 100,000 events at 1,000 events/s of event time: 100 s, so 10 tumbling windows of 10 s, 50+
// hopping windows and plenty of sessions. Shared by every test.
const N = 100_000;
const events = generateEvents(N, { seed: 7, eventsPerSecond: 1_000 });

/** Runs one query over the events (read as a one-partition source) and collects its output. */
async function runQuery<U>(name: QueryName): Promise<U[]> {
  const build = QUERIES[name] as unknown as (s: Stream<NexmarkEvent>) => Stream<U>;
  const out = collect<U>();
  const source = fromArray(events, { topic: 'nexmark', eventTime: (e) => e.dateTime });
  const summary = await build(pipeline(`nexmark-${name}`).from(source))
    .to(out)
    .run().done;
  assert.equal(summary.counters.in, N);
  assert.equal(summary.counters.deadLetters, 0, `${name}: no dead letters`);
  assert.equal(summary.counters.late, 0, `${name}: no late records (events are in event-time order)`);
  return out.values;
}

const by =
  <T>(...keys: ((v: T) => number)[]) =>
  (a: T, b: T): number => {
    for (const k of keys) if (k(a) !== k(b)) return k(a) - k(b);
    return 0;
  };

describe('nexmark generator', () => {
  it('is deterministic per seed, random-access, and differs between seeds', () => {
    const again = generateEvents(2_000, { seed: 7, eventsPerSecond: 1_000 });
    assert.deepEqual(again, events.slice(0, 2_000));
    const gen = new NexmarkGenerator({ seed: 7, eventsPerSecond: 1_000 });
    assert.deepEqual(gen.eventAt(77_777), events[77_777]);
    assert.notDeepEqual(generateEvents(200, { seed: 8, eventsPerSecond: 1_000 }), events.slice(0, 200));
  });

  it('mixes persons, auctions and bids 1:3:46 with dense ids and event time advancing by the inter-event delay', () => {
    const n = { person: 0, auction: 0, bid: 0 };
    for (const e of events) n[e.kind]++;
    assert.deepEqual(n, { person: N / 50, auction: (N / 50) * 3, bid: (N / 50) * 46 });
    const persons = events.filter((e) => e.kind === 'person');
    const auctions = events.filter((e) => e.kind === 'auction');
    assert.deepEqual(
      persons.map((p) => p.id),
      persons.map((_, i) => FIRST_PERSON_ID + i),
    );
    assert.deepEqual(
      auctions.map((a) => a.id),
      auctions.map((_, i) => FIRST_AUCTION_ID + i),
    );
    for (let i = 1; i < N; i++) assert.ok(events[i]!.dateTime >= events[i - 1]!.dateTime);
    // 1,000 events/s: event i is at base + i ms.
    assert.equal(events[N - 1]!.dateTime - events[0]!.dateTime, N - 1);
    for (const a of auctions) {
      assert.ok(a.expires > a.dateTime);
      assert.ok(a.reserve > a.initialBid);
      assert.ok(a.category >= 10 && a.category < 15);
    }
  });

  it('references existing (or at most 10 future) people and auctions, mostly hot ones', () => {
    let hotAuction = 0;
    let hotBidder = 0;
    let hotSeller = 0;
    let bids = 0;
    let auctions = 0;
    events.forEach((e, id) => {
      if (e.kind === 'bid') {
        bids++;
        const lastAuction = lastBase0AuctionId(id) + FIRST_AUCTION_ID;
        assert.ok(
          e.auction <= lastAuction + 10,
          `bid ${id} names auction ${e.auction} > ${lastAuction} + 10`,
        );
        assert.ok(e.bidder <= lastBase0PersonId(id) + FIRST_PERSON_ID + 10);
        if (e.auction === Math.floor((lastAuction - FIRST_AUCTION_ID) / 100) * 100 + FIRST_AUCTION_ID)
          hotAuction++;
        if ((e.bidder - FIRST_PERSON_ID) % 100 === 1) hotBidder++;
        assert.ok(e.price >= 100 && e.price <= 1e8);
      } else if (e.kind === 'auction') {
        auctions++;
        assert.ok(e.seller <= lastBase0PersonId(id) + FIRST_PERSON_ID + 10);
        if ((e.seller - FIRST_PERSON_ID) % 100 === 0) hotSeller++;
      }
    });
    // Hot with probability 1 − 1/ratio (2 for auctions, 4 for people), plus the random picks that land there.
    assert.ok(hotAuction / bids > 0.49 && hotAuction / bids < 0.56, `hot auctions ${hotAuction / bids}`);
    assert.ok(hotBidder / bids > 0.74 && hotBidder / bids < 0.78, `hot bidders ${hotBidder / bids}`);
    assert.ok(
      hotSeller / auctions > 0.73 && hotSeller / auctions < 0.79,
      `hot sellers ${hotSeller / auctions}`,
    );
  });
});

describe('nexmark queries equal the reference implementations on 100,000 events', () => {
  it('q0 passes every event through unchanged', async () => {
    assert.deepEqual(await runQuery('q0'), ref.refQ0(events));
  });

  it('q1 converts every bid price to euros', async () => {
    const got = await runQuery<Q1Result>('q1');
    assert.equal(got.length, N * 0.92);
    assert.deepEqual(got, ref.refQ1(events));
  });

  it('q2 selects the bids on auctions whose id is a multiple of 123', async () => {
    const got = await runQuery<Q2Result>('q2');
    const want = ref.refQ2(events);
    assert.ok(want.length > 100, `q2 has ${want.length} results`);
    assert.deepEqual(got, want);
  });

  it('q3 joins local sellers with their category-10 auctions, whichever arrives first', async () => {
    const got = (await runQuery<Q3Result[]>('q3')).flat();
    const want = ref.refQ3(events);
    assert.ok(want.length > 500, `q3 has ${want.length} results`);
    // Some auctions name a seller whose person event comes later: the join must wait for them.
    const firstSeen = new Map<number, number>();
    events.forEach((e, i) => {
      if (e.kind === 'person') firstSeen.set(e.id, i);
    });
    const auctionAt = new Map<number, number>();
    events.forEach((e, i) => {
      if (e.kind === 'auction') auctionAt.set(e.id, i);
    });
    const personIdOf = new Map(
      events.flatMap((e) => (e.kind === 'auction' ? [[e.id, e.seller] as const] : [])),
    );
    assert.ok(
      want.some((r) => firstSeen.get(personIdOf.get(r.id)!)! > auctionAt.get(r.id)!),
      'the test covers auctions before their seller',
    );
    const order = by<Q3Result>((r) => r.id);
    assert.deepEqual(got.sort(order), want.sort(order));
  });

  it('q4 ends with the average winning price per category', async () => {
    const got = await runQuery<Q4Result>('q4');
    const latest = new Map<number, Q4Result>();
    for (const r of got) latest.set(r.category, r);
    const want = ref.refQ4(events);
    assert.equal(want.size, 5);
    assert.deepEqual(latest, want);
  });

  it('q5 finds the auctions with the most bids per 10 s window every 2 s', async () => {
    const order = by<Q5Result>((r) => r.start);
    const got = (await runQuery<Q5Result>('q5')).sort(order);
    const want = ref.refQ5(events);
    assert.ok(want.length >= 50, `q5 has ${want.length} windows`);
    assert.deepEqual(got, want);
  });

  it('q7 finds the highest bid per 10 s window', async () => {
    const order = by<Q7Result>((r) => r.start);
    const got = (await runQuery<Q7Result>('q7')).sort(order);
    const want = ref.refQ7(events);
    assert.ok(want.length >= 10);
    assert.deepEqual(got, want);
  });

  it('q8 finds people who registered and created an auction in the same 10 s window', async () => {
    const order = by<Q8Result>(
      (r) => r.start,
      (r) => r.id,
    );
    const got = (await runQuery<Q8Result>('q8')).sort(order);
    const want = ref.refQ8(events).sort(order);
    assert.ok(want.length > 20, `q8 has ${want.length} results`);
    assert.deepEqual(got, want);
  });

  it('q11 counts bids per bidder session (10 s gap)', async () => {
    const order = by<Q11Result>(
      (r) => r.bidder,
      (r) => r.start,
    );
    const got = (await runQuery<Q11Result>('q11')).sort(order);
    const want = ref.refQ11(events).sort(order);
    assert.ok(want.length > 1_000, `q11 has ${want.length} sessions`);
    assert.ok(
      want.some((s) => s.bids > 1),
      'some sessions hold several bids',
    );
    assert.deepEqual(got, want);
  });
});

describe('nexmark events from the embedded log', () => {
  it('decodes every kind back to the generated event, and rejects a record with a wrong field, naming it', () => {
    const decoder = nexmarkJson();
    for (const e of events.slice(0, 500)) assert.deepEqual(decoder.decode(Buffer.from(JSON.stringify(e))), e);
    const bid = { ...events.find((e) => e.kind === 'bid')!, price: '12' };
    assert.throws(
      () => decoder.decode(Buffer.from(JSON.stringify(bid))),
      /bid: field "price" must be a number/,
    );
    assert.throws(
      () => decoder.decode(Buffer.from('{"kind":"sale","dateTime":1}')),
      /expected one of person/,
    );
  });

  it('q4 and q11 read from the log with LMDB state and checkpoints give the reference results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexmark-test-'));
    try {
      const log = Log.open(join(dir, 'log'));
      log.createTopic('nexmark', { partitions: 1 });
      const encoded = events.map((e) => ({ key: null, value: Buffer.from(JSON.stringify(e)) }));
      for (let i = 0; i < N; i += 10_000) log.partition('nexmark', 0).append(encoded.slice(i, i + 10_000));
      const viaLog = async <U>(name: QueryName): Promise<{ values: U[]; checkpoints: number }> => {
        const build = QUERIES[name] as unknown as (s: Stream<NexmarkEvent>) => Stream<U>;
        const out = collect<U>();
        const store = LmdbCheckpointStore.open(join(dir, `state-${name}`));
        const source = logSource({ log, topic: 'nexmark', endWhen: 'caught-up' });
        const run = build(pipeline(`nexmark-${name}`).from(source).decode(nexmarkJson()))
          .to(out)
          .run({ checkpoints: store, checkpointIntervalMs: 20, batchSize: 2048 });
        const summary = await run.done;
        await store.close();
        assert.equal(summary.counters.in, N);
        assert.equal(summary.counters.deadLetters, 0);
        return { values: out.values, checkpoints: summary.checkpoints };
      };
      const q4 = await viaLog<Q4Result>('q4');
      assert.ok(q4.checkpoints >= 2, `q4 took ${q4.checkpoints} checkpoints`);
      const latest = new Map<number, Q4Result>();
      for (const r of q4.values) latest.set(r.category, r);
      assert.deepEqual(latest, ref.refQ4(events));
      const order = by<Q11Result>(
        (r) => r.bidder,
        (r) => r.start,
      );
      const q11 = await viaLog<Q11Result>('q11');
      assert.deepEqual(q11.values.sort(order), ref.refQ11(events).sort(order));
      log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
