/**
 * Nexmark q0–q2: stateless queries over the event stream.
 *
 * @example
 * ```ts
 * import { collect, fromArray, pipeline } from 'sluice';
 * const out = collect<Q1Result>();
 * await q1(pipeline('q1').from(fromArray(events))).to(out).run().done;
 * ```
 */
import type { Stream } from '../../../src/index.js';
import type { Bid, NexmarkEvent } from '../generator.js';

/** q0, pass-through: every event unchanged (measures the framework's own cost). */
export function q0(events: Stream<NexmarkEvent>): Stream<NexmarkEvent> {
  return events.map((e) => e, { name: 'q0' });
}

export interface Q1Result {
  auction: number;
  bidder: number;
  /** The bid's price converted from dollars to euros (× 0.908). */
  price: number;
  dateTime: number;
}

/** q1, currency conversion: every bid with its price × 0.908. */
export function q1(events: Stream<NexmarkEvent>): Stream<Q1Result> {
  return events
    .filter((e) => e.kind === 'bid', { name: 'bids' })
    .map(
      (e) => {
        const b = e as Bid;
        return { auction: b.auction, bidder: b.bidder, price: b.price * 0.908, dateTime: b.dateTime };
      },
      { name: 'q1' },
    );
}

export interface Q2Result {
  auction: number;
  price: number;
}

/** q2, selection: the bids on auctions whose id is a multiple of 123. */
export function q2(events: Stream<NexmarkEvent>): Stream<Q2Result> {
  return events
    .filter((e) => e.kind === 'bid' && e.auction % 123 === 0, { name: 'bids-of-123' })
    .map((e) => ({ auction: (e as Bid).auction, price: (e as Bid).price }), { name: 'q2' });
}
