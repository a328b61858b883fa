/**
 * Nexmark q3, local item suggestion: sellers in Oregon, Idaho or California joined with their
 * auctions in category 10, as an incremental join on the seller id with keyed state.
 *
 * An auction may name a seller whose person event comes later (the generator references up to
 * 10 people ahead), so each side is kept: a qualifying person in a value, the qualifying auctions
 * seen before their seller in a list, emptied once the person arrives. Persons and auctions that
 * can never match (other states, other categories) are filtered out before the state.
 *
 * Sluice's DSL has no flatMap, so one input record yields one output value: here the array of
 * the join results it completes (usually one; a person arriving after k of their auctions
 * completes k). Records completing nothing are dropped; consumers flatten the arrays.
 */
import { listState, valueState, type Stream } from '../../../src/index.js';
import type { Auction, NexmarkEvent, Person } from '../generator.js';

export interface Q3Result {
  name: string;
  city: string;
  state: string;
  /** The auction's id. */
  id: number;
}

export const Q3_STATES: ReadonlySet<string> = new Set(['OR', 'ID', 'CA']);
export const Q3_CATEGORY = 10;

export function q3(events: Stream<NexmarkEvent>): Stream<Q3Result[]> {
  return events
    .filter(
      (e) =>
        (e.kind === 'person' && Q3_STATES.has(e.state)) ||
        (e.kind === 'auction' && e.category === Q3_CATEGORY),
      { name: 'local-sellers-and-category-10' },
    )
    .keyBy((e) => (e.kind === 'person' ? e.id : (e as Auction).seller), { name: 'bySeller' })
    .withState(
      { seller: valueState<Person>(), earlyAuctions: listState<number>() },
      (e, s) => {
        if (e.kind === 'person') {
          s.seller.set(e);
          const early = s.earlyAuctions.get();
          if (early.length === 0) return undefined;
          s.earlyAuctions.clear();
          return early.map((id) => joined(e, id));
        }
        const a = e as Auction;
        const seller = s.seller.get();
        if (seller === undefined) {
          s.earlyAuctions.add(a.id);
          return undefined;
        }
        return [joined(seller, a.id)];
      },
      { name: 'q3-join' },
    );
}

function joined(p: Person, auction: number): Q3Result {
  return { name: p.name, city: p.city, state: p.state, id: auction };
}
