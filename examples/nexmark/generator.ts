/**
 * A deterministic Nexmark event generator, after the specification as implemented in Apache
 * Beam's `NexmarkGenerator` and the nexmark/nexmark project (written here from their description,
 * not copied):
 *
 * - Event ids 0, 1, 2, … ; out of every 50 consecutive ids, 1 is a person, 3 are auctions and 46
 *   are bids (2 % / 6 % / 92 %), in that order within the group of 50.
 * - Event time advances by a fixed inter-event delay (`1e6 / eventsPerSecond` µs), so events
 *   come out in event-time order and several share a millisecond at high rates.
 * - Person and auction ids are dense from 1000 (`FIRST_PERSON_ID`, `FIRST_AUCTION_ID`).
 *   Sellers and bidders are "hot" (the first, resp. second, person of the latest block of 100)
 *   with probability 1 − 1/hotSellersRatio (resp. hotBiddersRatio), else one of the last
 *   `numActivePeople` people or up to 10 ids *ahead* (so an auction may name a seller whose
 *   person event comes later). Bids go to the hot auction (the first of the latest block of 100)
 *   with probability 1 − 1/hotAuctionRatio, else to one of the last `numInFlightAuctions`
 *   auctions or up to 10 ahead.
 * - Auctions expire after a random length averaging the time it takes to create
 *   `numInFlightAuctions` more auctions; reserve = initial bid + another price; 5 categories
 *   from 10. Prices are log-uniform between 1 and 1,000,000 (in cents: 100 … 10^8).
 * - Bids carry a channel and URL (nexmark/nexmark's extension): one of 4 hot channels with
 *   probability 1 − 1/100, else one of 10,000 others.
 *
 * Each event draws from its own random stream seeded by (seed, event id), so `eventAt(id)` is
 * random-access and any range of ids can be generated independently (split generation).
 * The `extra` padding field of the reference implementations is left out.
 *
 * @example
 * ```ts
 * import { NexmarkGenerator, generateEvents } from './generator.js';
 * const events = generateEvents(100_000, { seed: 1, eventsPerSecond: 1_000 });
 * const gen = new NexmarkGenerator({ seed: 1 });
 * gen.eventAt(49).kind; // 'bid'
 * ```
 */
import { Rng, deriveSeed } from '../../src/apps/fraud/random.js';

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const BID_PROPORTION = 46;
export const PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;

const NUM_CATEGORIES = 5;
/** How many not-yet-created person / auction ids a reference may name. */
const ID_LEAD = 10;
/** Hot sellers, bidders and auctions are picked from blocks of this many ids. */
const HOT_BLOCK = 100;
const HOT_CHANNELS_RATIO = 100;
const CHANNELS = 10_000;
const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'] as const;
const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'] as const;
const US_CITIES = [
  'Phoenix',
  'Los Angeles',
  'San Francisco',
  'Boise',
  'Portland',
  'Bend',
  'Redmond',
  'Seattle',
  'Kent',
  'Cheyenne',
] as const;
const FIRST_NAMES = [
  'Peter',
  'Paul',
  'Luke',
  'John',
  'Saul',
  'Vicky',
  'Kate',
  'Julie',
  'Sarah',
  'Deiter',
  'Walter',
];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];

export interface Person {
  kind: 'person';
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  /** Event time, ms since the epoch. */
  dateTime: number;
}

export interface Auction {
  kind: 'auction';
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  /** When the auction closes, ms since the epoch (after dateTime). */
  expires: number;
  seller: number;
  category: number;
}

export interface Bid {
  kind: 'bid';
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
}

export type NexmarkEvent = Person | Auction | Bid;

export interface GeneratorConfig {
  /** Seed of every random draw (default 0). */
  seed?: number;
  /** Event rate in event time (default 10,000/s, Beam's `firstEventRate`). */
  eventsPerSecond?: number;
  /** Event time of event 0, ms since the epoch (default 2026-01-01T00:00:00Z). */
  baseTime?: number;
  /** Bids go to the hot auction with probability 1 − 1/hotAuctionRatio (default 2). */
  hotAuctionRatio?: number;
  /** Auctions are by a hot seller with probability 1 − 1/hotSellersRatio (default 4). */
  hotSellersRatio?: number;
  /** Bids are by a hot bidder with probability 1 − 1/hotBiddersRatio (default 4). */
  hotBiddersRatio?: number;
  /** Auctions considered open when picking a random one (default 100). */
  numInFlightAuctions?: number;
  /** People considered active when picking a random one (default 1000). */
  numActivePeople?: number;
}

/** The last person id (base 0) that exists once event `eventId` is generated. */
export function lastBase0PersonId(eventId: number): number {
  const epoch = Math.floor(eventId / PROPORTION_DENOMINATOR);
  const offset = Math.min(eventId % PROPORTION_DENOMINATOR, PERSON_PROPORTION - 1);
  return epoch * PERSON_PROPORTION + offset;
}

/** The last auction id (base 0) that exists once event `eventId` is generated. */
export function lastBase0AuctionId(eventId: number): number {
  let epoch = Math.floor(eventId / PROPORTION_DENOMINATOR);
  let offset = eventId % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) {
    epoch--; // a person: the last auction is the previous group's last
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) offset = AUCTION_PROPORTION - 1;
  else offset -= PERSON_PROPORTION;
  return epoch * AUCTION_PROPORTION + offset;
}

/** Which kind event `eventId` is (fixed by its position in its group of 50). */
export function kindOf(eventId: number): NexmarkEvent['kind'] {
  const offset = eventId % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) return 'person';
  return offset < PERSON_PROPORTION + AUCTION_PROPORTION ? 'auction' : 'bid';
}

export class NexmarkGenerator {
  readonly seed: number;
  readonly baseTime: number;
  /** Inter-event delay in µs. */
  readonly delayUs: number;
  private readonly hotAuctionRatio: number;
  private readonly hotSellersRatio: number;
  private readonly hotBiddersRatio: number;
  private readonly numInFlightAuctions: number;
  private readonly numActivePeople: number;
  /** One Rng, reseeded per event: no allocation per draw. */
  private readonly rng = new Rng(0);
  private nextId = 0;

  constructor(config: GeneratorConfig = {}) {
    const rate = config.eventsPerSecond ?? 10_000;
    if (!(rate > 0 && rate <= 1e6)) throw new RangeError(`eventsPerSecond must be in (0, 1e6], got ${rate}`);
    this.seed = config.seed ?? 0;
    this.baseTime = config.baseTime ?? Date.UTC(2026, 0, 1);
    this.delayUs = 1e6 / rate;
    this.hotAuctionRatio = positiveInt(config.hotAuctionRatio ?? 2, 'hotAuctionRatio');
    this.hotSellersRatio = positiveInt(config.hotSellersRatio ?? 4, 'hotSellersRatio');
    this.hotBiddersRatio = positiveInt(config.hotBiddersRatio ?? 4, 'hotBiddersRatio');
    this.numInFlightAuctions = positiveInt(config.numInFlightAuctions ?? 100, 'numInFlightAuctions');
    this.numActivePeople = positiveInt(config.numActivePeople ?? 1000, 'numActivePeople');
  }

  /** Event time of event `eventId` (ms): base time plus whole milliseconds of inter-event delay. */
  timestampOf(eventId: number): number {
    return this.baseTime + Math.floor((eventId * this.delayUs) / 1000);
  }

  /** The next event in id order. */
  next(): NexmarkEvent {
    return this.eventAt(this.nextId++);
  }

  /** Event `eventId`, the same whatever was generated before. */
  eventAt(eventId: number): NexmarkEvent {
    const rng = this.rng.reseed(
      deriveSeed(this.seed, eventId % 0x40000000, Math.floor(eventId / 0x40000000)),
    );
    const t = this.timestampOf(eventId);
    const kind = kindOf(eventId);
    if (kind === 'person') return this.person(eventId, rng, t);
    if (kind === 'auction') return this.auction(eventId, rng, t);
    return this.bid(eventId, rng, t);
  }

  private person(eventId: number, rng: Rng, t: number): Person {
    return {
      kind: 'person',
      id: lastBase0PersonId(eventId) + FIRST_PERSON_ID,
      name: `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`,
      emailAddress: `${nextString(rng, 7)}@${nextString(rng, 5)}.com`,
      creditCard: [0, 1, 2, 3].map(() => String(rng.int(10_000)).padStart(4, '0')).join(' '),
      city: pick(rng, US_CITIES),
      state: pick(rng, US_STATES),
      dateTime: t,
    };
  }

  private auction(eventId: number, rng: Rng, t: number): Auction {
    const seller =
      rng.int(this.hotSellersRatio) > 0
        ? Math.floor(lastBase0PersonId(eventId) / HOT_BLOCK) * HOT_BLOCK
        : this.randomPerson(eventId, rng);
    const category = FIRST_CATEGORY_ID + rng.int(NUM_CATEGORIES);
    const initialBid = nextPrice(rng);
    // Lengths average the time until numInFlightAuctions more auctions exist.
    const eventsAhead = Math.floor((this.numInFlightAuctions * PROPORTION_DENOMINATOR) / AUCTION_PROPORTION);
    const horizon = this.timestampOf(eventId + eventsAhead) - t;
    const expires = t + 1 + rng.int(Math.max(horizon * 2, 1));
    return {
      kind: 'auction',
      id: lastBase0AuctionId(eventId) + FIRST_AUCTION_ID,
      itemName: nextString(rng, 20),
      description: nextString(rng, 100),
      initialBid,
      reserve: initialBid + nextPrice(rng),
      dateTime: t,
      expires,
      seller: seller + FIRST_PERSON_ID,
      category,
    };
  }

  private bid(eventId: number, rng: Rng, t: number): Bid {
    const auction =
      rng.int(this.hotAuctionRatio) > 0
        ? Math.floor(lastBase0AuctionId(eventId) / HOT_BLOCK) * HOT_BLOCK
        : this.randomAuction(eventId, rng);
    // The second person of the block, so hot bidders and hot sellers differ.
    const bidder =
      rng.int(this.hotBiddersRatio) > 0
        ? Math.floor(lastBase0PersonId(eventId) / HOT_BLOCK) * HOT_BLOCK + 1
        : this.randomPerson(eventId, rng);
    const price = nextPrice(rng);
    let channel: string;
    let url: string;
    if (rng.int(HOT_CHANNELS_RATIO) > 0) {
      const i = rng.int(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[i]!;
      url = `https://www.nexmark.com/${channel.toLowerCase()}/item.htm?query=1`;
    } else {
      const i = rng.int(CHANNELS);
      channel = `channel-${i}`;
      url = `https://www.nexmark.com/${nextString(rng, 5)}/item.htm?query=1&channel_id=${i}`;
    }
    return {
      kind: 'bid',
      auction: auction + FIRST_AUCTION_ID,
      bidder: bidder + FIRST_PERSON_ID,
      price,
      channel,
      url,
      dateTime: t,
    };
  }

  /** One of the last numActivePeople people, or up to ID_LEAD ids beyond the last (base 0). */
  private randomPerson(eventId: number, rng: Rng): number {
    const numPeople = lastBase0PersonId(eventId) + 1;
    const active = Math.min(numPeople, this.numActivePeople);
    return numPeople - active + rng.int(active + ID_LEAD);
  }

  /** One of the last numInFlightAuctions auctions, or up to ID_LEAD beyond the last (base 0). */
  private randomAuction(eventId: number, rng: Rng): number {
    const last = lastBase0AuctionId(eventId);
    const min = Math.max(last - this.numInFlightAuctions, 0);
    return min + rng.int(last - min + 1 + ID_LEAD);
  }
}

/** The first `count` events (ids 0 … count − 1) of the generator configured by `config`. */
export function generateEvents(count: number, config: GeneratorConfig = {}): NexmarkEvent[] {
  const gen = new NexmarkGenerator(config);
  const out = new Array<NexmarkEvent>(count);
  for (let i = 0; i < count; i++) out[i] = gen.eventAt(i);
  return out;
}

/** Log-uniform price in cents between 100 (1.00) and 10^8 (1,000,000.00). */
function nextPrice(rng: Rng): number {
  return Math.round(Math.pow(10, rng.uniform() * 6) * 100);
}

/** A string of 3 … maxLength − 1 lowercase letters with an occasional space. */
function nextString(rng: Rng, maxLength: number): string {
  const len = 3 + rng.int(maxLength - 3);
  let s = '';
  for (let i = 0; i < len; i++) s += rng.int(13) === 0 ? ' ' : String.fromCharCode(97 + rng.int(26));
  return s;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

function positiveInt(n: number, name: string): number {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${name} must be an integer >= 1, got ${n}`);
  return n;
}

// `node --import tsx examples/nexmark/generator.ts [events] [seed] [eventsPerSecond]` prints JSON lines.
if (process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`) {
  const [count = '1000', seed = '0', rate = '10000'] = process.argv.slice(2);
  const gen = new NexmarkGenerator({ seed: Number(seed), eventsPerSecond: Number(rate) });
  const n = Number(count);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += JSON.stringify(gen.next()) + '\n';
    if (buf.length > 1 << 16) {
      process.stdout.write(buf);
      buf = '';
    }
  }
  process.stdout.write(buf);
}
