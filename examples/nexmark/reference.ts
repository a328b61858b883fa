/**
 * Plain reference implementations of the Nexmark queries: loops and Maps over the whole event
 * array, no Sluice, written to be obviously right rather than fast. The tests check each
 * Sluice query (queries/) against these on the same generated events.
 */
import type { Auction, Bid, NexmarkEvent, Person } from './generator.js';
import type {
  Q1Result,
  Q2Result,
  Q3Result,
  Q4Result,
  Q5Result,
  Q7Result,
  Q8Result,
  Q11Result,
} from './queries/index.js';

const bidsOf = (events: readonly NexmarkEvent[]): Bid[] => events.filter((e): e is Bid => e.kind === 'bid');
const auctionsOf = (events: readonly NexmarkEvent[]): Auction[] =>
  events.filter((e): e is Auction => e.kind === 'auction');
const personsOf = (events: readonly NexmarkEvent[]): Person[] =>
  events.filter((e): e is Person => e.kind === 'person');

export function refQ0(events: readonly NexmarkEvent[]): NexmarkEvent[] {
  return [...events];
}

export function refQ1(events: readonly NexmarkEvent[]): Q1Result[] {
  return bidsOf(events).map((b) => ({
    auction: b.auction,
    bidder: b.bidder,
    price: b.price * 0.908,
    dateTime: b.dateTime,
  }));
}

export function refQ2(events: readonly NexmarkEvent[]): Q2Result[] {
  return bidsOf(events)
    .filter((b) => b.auction % 123 === 0)
    .map((b) => ({ auction: b.auction, price: b.price }));
}

/** Every (seller in OR/ID/CA, their auction in category 10) pair, whatever the arrival order. */
export function refQ3(events: readonly NexmarkEvent[]): Q3Result[] {
  const persons = new Map<number, Person>();
  for (const p of personsOf(events)) persons.set(p.id, p);
  const out: Q3Result[] = [];
  for (const a of auctionsOf(events)) {
    const p = persons.get(a.seller);
    if (a.category !== 10 || p === undefined) continue;
    if (p.state === 'OR' || p.state === 'ID' || p.state === 'CA')
      out.push({ name: p.name, city: p.city, state: p.state, id: a.id });
  }
  return out;
}

/** Per category: the average over auctions with a bid inside their open interval of their highest such bid. */
export function refQ4(events: readonly NexmarkEvent[]): Map<number, Q4Result> {
  const auctions = new Map<number, Auction>();
  for (const a of auctionsOf(events)) auctions.set(a.id, a);
  const best = new Map<number, number>();
  for (const b of bidsOf(events)) {
    const a = auctions.get(b.auction);
    if (a === undefined || b.dateTime < a.dateTime || b.dateTime > a.expires) continue;
    best.set(a.id, Math.max(best.get(a.id) ?? -Infinity, b.price));
  }
  const perCategory = new Map<number, { sum: number; n: number }>();
  for (const [id, price] of best) {
    const c = auctions.get(id)!.category;
    const agg = perCategory.get(c) ?? { sum: 0, n: 0 };
    agg.sum += price;
    agg.n++;
    perCategory.set(c, agg);
  }
  const out = new Map<number, Q4Result>();
  for (const [category, { sum, n }] of perCategory)
    out.set(category, { category, avgPrice: sum / n, auctions: n });
  return out;
}

/** For every hopping window (10 s, every 2 s) with bids: the auctions with the most bids. */
export function refQ5(events: readonly NexmarkEvent[]): Q5Result[] {
  const size = 10_000;
  const advance = 2_000;
  const counts = new Map<number, Map<number, number>>(); // window start -> auction -> bids
  for (const b of bidsOf(events)) {
    const last = Math.floor(b.dateTime / advance) * advance;
    for (let start = last; start > b.dateTime - size; start -= advance) {
      let perAuction = counts.get(start);
      if (perAuction === undefined) counts.set(start, (perAuction = new Map()));
      perAuction.set(b.auction, (perAuction.get(b.auction) ?? 0) + 1);
    }
  }
  const out: Q5Result[] = [];
  for (const start of [...counts.keys()].sort((a, b) => a - b)) {
    const perAuction = counts.get(start)!;
    const most = Math.max(...perAuction.values());
    const auctions = [...perAuction].filter(([, n]) => n === most).map(([a]) => a);
    out.push({ start, end: start + size, auctions: auctions.sort((a, b) => a - b), bids: most });
  }
  return out;
}

/** For every 10 s tumbling window with bids: the highest price and every bid at it, in order. */
export function refQ7(events: readonly NexmarkEvent[]): Q7Result[] {
  const size = 10_000;
  const windows = new Map<number, Bid[]>();
  for (const b of bidsOf(events)) {
    const start = Math.floor(b.dateTime / size) * size;
    const list = windows.get(start) ?? [];
    list.push(b);
    windows.set(start, list);
  }
  const out: Q7Result[] = [];
  for (const start of [...windows.keys()].sort((a, b) => a - b)) {
    const bids = windows.get(start)!;
    const price = Math.max(...bids.map((b) => b.price));
    const top = bids
      .filter((b) => b.price === price)
      .map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime }));
    out.push({ start, end: start + size, price, bids: top });
  }
  return out;
}

/** People who registered and created an auction in the same 10 s tumbling window. */
export function refQ8(events: readonly NexmarkEvent[]): Q8Result[] {
  const size = 10_000;
  const window = (t: number) => Math.floor(t / size) * size;
  const sellers = new Set<string>();
  for (const a of auctionsOf(events)) sellers.add(`${a.seller}@${window(a.dateTime)}`);
  return personsOf(events)
    .filter((p) => sellers.has(`${p.id}@${window(p.dateTime)}`))
    .map((p) => ({ id: p.id, name: p.name, start: window(p.dateTime) }));
}

/** Per bidder, sessions of bids less than 10 s apart: the bid count, first bid, last bid + 10 s. */
export function refQ11(events: readonly NexmarkEvent[]): Q11Result[] {
  const gap = 10_000;
  const times = new Map<number, number[]>();
  for (const b of bidsOf(events)) {
    const list = times.get(b.bidder) ?? [];
    list.push(b.dateTime);
    times.set(b.bidder, list);
  }
  const out: Q11Result[] = [];
  for (const [bidder, ts] of times) {
    ts.sort((a, b) => a - b);
    let start = ts[0]!;
    let n = 0;
    for (let i = 0; i < ts.length; i++) {
      if (i > 0 && ts[i]! >= ts[i - 1]! + gap) {
        out.push({ bidder, bids: n, start, end: ts[i - 1]! + gap });
        start = ts[i]!;
        n = 0;
      }
      n++;
    }
    out.push({ bidder, bids: n, start, end: ts[ts.length - 1]! + gap });
  }
  return out;
}
