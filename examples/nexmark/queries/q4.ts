/**
 * Nexmark q4, average winning-bid price per category: for each auction the highest bid placed
 * while it was open (dateTime within [auction.dateTime, auction.expires]), then per category
 * the average of those prices, kept up to date as winners change (as Flink's SQL version, an
 * updating result: the latest value per category is the answer).
 *
 * Two keyed stages: by auction (the auction, its best price so far, and bids that arrived before
 * their auction, which the generator allows), then by category (the sum and count of the
 * auctions' best prices; a new best price for an auction replaces its previous one in the sum).
 */
import { listState, valueState, type Stream } from '../../../src/index.js';
import type { Auction, Bid, NexmarkEvent } from '../generator.js';

/** An auction's best price changed: `previous` is undefined for its first valid bid. */
interface WinnerChange {
  category: number;
  price: number;
  previous: number | undefined;
}

export interface Q4Result {
  category: number;
  /** Average over the category's auctions with at least one valid bid, of their highest bid. */
  avgPrice: number;
  auctions: number;
}

const inAuction = (a: Auction, b: Bid) => b.dateTime >= a.dateTime && b.dateTime <= a.expires;

export function q4(events: Stream<NexmarkEvent>): Stream<Q4Result> {
  return events
    .filter((e) => e.kind !== 'person', { name: 'auctions-and-bids' })
    .keyBy((e) => (e.kind === 'auction' ? e.id : (e as Bid).auction), { name: 'byAuction' })
    .withState(
      { auction: valueState<Auction>(), best: valueState<number>(), earlyBids: listState<Bid>() },
      (e, s): WinnerChange | undefined => {
        if (e.kind === 'auction') {
          s.auction.set(e);
          let best: number | undefined;
          for (const b of s.earlyBids.get())
            if (inAuction(e, b) && (best === undefined || b.price > best)) best = b.price;
          s.earlyBids.clear();
          if (best === undefined) return undefined;
          s.best.set(best);
          return { category: e.category, price: best, previous: undefined };
        }
        const b = e as Bid;
        const a = s.auction.get();
        if (a === undefined) {
          s.earlyBids.add(b);
          return undefined;
        }
        const previous = s.best.get();
        if (!inAuction(a, b) || (previous !== undefined && b.price <= previous)) return undefined;
        s.best.set(b.price);
        return { category: a.category, price: b.price, previous };
      },
      { name: 'q4-winning-bids' },
    )
    .keyBy((w) => w.category, { name: 'byCategory' })
    .withState(
      { sum: valueState<number>(), auctions: valueState<number>() },
      (w, s) => {
        const sum = (s.sum.get() ?? 0) + w.price - (w.previous ?? 0);
        const auctions = (s.auctions.get() ?? 0) + (w.previous === undefined ? 1 : 0);
        s.sum.set(sum);
        s.auctions.set(auctions);
        return { category: w.category, avgPrice: sum / auctions, auctions };
      },
      { name: 'q4-average' },
    );
}
