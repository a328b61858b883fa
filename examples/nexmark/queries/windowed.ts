/**
 * Nexmark's windowed queries: q5 (hot items, hopping), q7 (highest bid, tumbling), q8 (new
 * users, tumbling join) and q11 (user sessions). Event time is the events' `dateTime`; the
 * generator emits events in event-time order, so no out-of-orderness is allowed for.
 */
import {
  count,
  hopping,
  reduce,
  seconds,
  sessionWindows,
  tumbling,
  type Stream,
} from '../../../src/index.js';
import type { Bid, NexmarkEvent } from '../generator.js';

export interface Q5Result {
  start: number;
  end: number;
  /** The auctions with the most bids in [start, end), ascending ids (all of them on a tie). */
  auctions: number[];
  bids: number;
}

/** The auctions with the most bids (ties kept) among a window's per-auction counts. */
interface Hottest {
  auctions: number[];
  bids: number;
}

/**
 * q5, hot items: every 2 s, the auction(s) with the most bids over the last 10 s. Two windows:
 * bids counted per auction and hopping window, then the counts of each hopping window (they all
 * carry event time end − 1, so one 2 s tumbling window holds exactly one hopping window's counts)
 * reduced to the maximum.
 */
export function q5(events: Stream<NexmarkEvent>): Stream<Q5Result> {
  const size = seconds(10);
  const advance = seconds(2);
  return events
    .filter((e) => e.kind === 'bid', { name: 'bids' })
    .keyBy((e) => (e as Bid).auction, { name: 'byAuction' })
    .eventTime((e) => e.dateTime)
    .window(hopping({ size, advance }), { name: 'q5-bids-per-auction' })
    .aggregate({ bids: count() })
    .keyBy(() => 0, { name: 'all' })
    .window(tumbling({ size: advance }), { name: 'q5-hottest' })
    .aggregate({
      top: reduce<{ key: string | number; bids: number }, Hottest>(
        () => ({ auctions: [], bids: 0 }),
        (acc, c) => {
          if (c.bids > acc.bids) return { auctions: [Number(c.key)], bids: c.bids };
          if (c.bids === acc.bids) acc.auctions.push(Number(c.key));
          return acc;
        },
      ),
    })
    .map((r) => ({
      // The tumbling window [k·2 s, (k+1)·2 s) holds the hopping window ending at (k+1)·2 s.
      start: r.end - size,
      end: r.end,
      auctions: r.top.auctions.sort((a, b) => a - b),
      bids: r.top.bids,
    }));
}

export interface Q7Result {
  start: number;
  end: number;
  price: number;
  /** Every bid of the window at the highest price, in arrival order. */
  bids: { auction: number; bidder: number; price: number; dateTime: number }[];
}

/** q7, highest bid: per 10 s tumbling window, the bid(s) with the highest price. */
export function q7(events: Stream<NexmarkEvent>): Stream<Q7Result> {
  return events
    .filter((e) => e.kind === 'bid', { name: 'bids' })
    .keyBy(() => 0, { name: 'all' })
    .eventTime((e) => e.dateTime)
    .window(tumbling({ size: seconds(10) }), { name: 'q7-highest-bid' })
    .aggregate({
      top: reduce<NexmarkEvent, { price: number; bids: Q7Result['bids'] }>(
        () => ({ price: -Infinity, bids: [] }),
        (acc, e) => {
          const b = e as Bid;
          const bid = { auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime };
          if (b.price > acc.price) return { price: b.price, bids: [bid] };
          if (b.price === acc.price) acc.bids.push(bid);
          return acc;
        },
      ),
    })
    .map((r) => ({ start: r.start, end: r.end, price: r.top.price, bids: r.top.bids }));
}

export interface Q8Result {
  id: number;
  name: string;
  start: number;
}

/**
 * q8, monitor new users: people who registered and created at least one auction within the same
 * 10 s tumbling window. Persons and auctions keyed by person id / seller share one window.
 */
export function q8(events: Stream<NexmarkEvent>): Stream<Q8Result> {
  return events
    .filter((e) => e.kind !== 'bid', { name: 'persons-and-auctions' })
    .keyBy((e) => (e.kind === 'person' ? e.id : e.kind === 'auction' ? e.seller : -1), { name: 'byPerson' })
    .eventTime((e) => e.dateTime)
    .window(tumbling({ size: seconds(10) }), { name: 'q8-new-sellers' })
    .aggregate({
      seen: reduce<NexmarkEvent, { name: string | undefined; auctions: number }>(
        () => ({ name: undefined, auctions: 0 }),
        (acc, e) => {
          if (e.kind === 'person') acc.name = e.name;
          else acc.auctions++;
          return acc;
        },
      ),
    })
    .filter((r) => r.seen.name !== undefined && r.seen.auctions > 0, { name: 'registered-and-selling' })
    .map((r) => ({ id: Number(r.key), name: r.seen.name!, start: r.start }));
}

export interface Q11Result {
  bidder: number;
  bids: number;
  start: number;
  /** Last bid's time + the 10 s gap. */
  end: number;
}

/** q11, user sessions: bids per bidder per session (a session ends after 10 s without a bid). */
export function q11(events: Stream<NexmarkEvent>): Stream<Q11Result> {
  return events
    .filter((e) => e.kind === 'bid', { name: 'bids' })
    .keyBy((e) => (e as Bid).bidder, { name: 'byBidder' })
    .eventTime((e) => e.dateTime)
    .window(sessionWindows({ gap: seconds(10) }), { name: 'q11-sessions' })
    .aggregate({ bids: count() })
    .map((r) => ({ bidder: Number(r.key), bids: r.bids, start: r.start, end: r.end }));
}
