/**
 * A deterministic stream of user–item interactions drawn from a latent-factor model: every
 * user and item has a vector of `factors` Gaussian coordinates; user u picks item i with
 * probability ∝ popularity(i) · exp(affinity · ⟨u, i⟩ / √factors), never the same item twice
 * (like ratings: one per user and item). Users' activity and items' popularity are Zipf-like;
 * events are 1–120 s apart. The rating (1–5) grows with the affinity.
 *
 * @example
 * const gen = new InteractionGenerator({ seed: 1, users: 500, items: 300 });
 * for (const e of gen.take(3)) console.log(e); // { user: 17, item: 203, rating: 4, ts: 1714521612000 }
 */
import { Rng, deriveSeed } from '../fraud/random.js';

export interface Interaction {
  user: number;
  item: number;
  rating: number;
  /** Epoch ms. */
  ts: number;
}

export interface InteractionGeneratorOptions {
  seed?: number;
  users?: number;
  items?: number;
  factors?: number;
  /** Strength of the user–item affinity against plain popularity. */
  affinity?: number;
  /** Zipf exponent of item popularity. */
  popularitySkew?: number;
  /** First event time, epoch ms. */
  startMs?: number;
}

export const GENERATOR_DEFAULTS = {
  seed: 1,
  users: 2000,
  items: 1000,
  factors: 8,
  affinity: 2.5,
  popularitySkew: 0.5,
  startMs: Date.UTC(2024, 4, 1),
};

export class InteractionGenerator {
  private readonly o: typeof GENERATOR_DEFAULTS;
  private readonly rng: Rng;
  private readonly userVec: Float64Array;
  private readonly itemVec: Float64Array;
  private readonly logPop: Float64Array;
  private readonly userCdf: Float64Array;
  /** Per user: cumulative weights over items (built on the user's first event). */
  private readonly itemCdf = new Map<number, Float64Array>();
  private readonly seen = new Map<number, Set<number>>();
  private now: number;

  constructor(opts: InteractionGeneratorOptions = {}) {
    this.o = { ...GENERATOR_DEFAULTS, ...opts };
    const { users, items, factors } = this.o;
    if (!(users >= 1 && items >= 2 && factors >= 1))
      throw new RangeError('users >= 1, items >= 2, factors >= 1');
    const rng = new Rng(deriveSeed(this.o.seed, 7, 0));
    this.userVec = Float64Array.from({ length: users * factors }, () => rng.normal());
    this.itemVec = Float64Array.from({ length: items * factors }, () => rng.normal());
    // Popularity: Zipf over a random order of the items; activity: Zipf over users.
    const order = Array.from({ length: items }, (_, i) => i);
    for (let i = items - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    this.logPop = new Float64Array(items);
    order.forEach((item, rank) => (this.logPop[item] = -this.o.popularitySkew * Math.log(rank + 1)));
    this.userCdf = new Float64Array(users);
    let acc = 0;
    for (let u = 0; u < users; u++) this.userCdf[u] = acc += 1 / Math.pow(u + 10, 0.9);
    this.rng = new Rng(deriveSeed(this.o.seed, 7, 1));
    this.now = this.o.startMs;
  }

  private static pick(cdf: Float64Array, x: number): number {
    const target = x * cdf[cdf.length - 1]!;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private affinity(u: number, i: number): number {
    const f = this.o.factors;
    let dot = 0;
    for (let k = 0; k < f; k++) dot += this.userVec[u * f + k]! * this.itemVec[i * f + k]!;
    return dot / Math.sqrt(f);
  }

  private cdfOf(u: number): Float64Array {
    let cdf = this.itemCdf.get(u);
    if (!cdf) {
      cdf = new Float64Array(this.o.items);
      let acc = 0;
      for (let i = 0; i < this.o.items; i++)
        cdf[i] = acc += Math.exp(this.logPop[i]! + this.o.affinity * this.affinity(u, i));
      this.itemCdf.set(u, cdf);
    }
    return cdf;
  }

  /** Distinct (user, item) pairs emitted so far: a user never interacts with an item twice. */
  private pairs = 0;

  /** The most interactions it can emit: every user with every item once. */
  get capacity(): number {
    return this.o.users * this.o.items;
  }

  /** The next interaction (a user and an item the user has not had yet); throws once there is none. */
  next(): Interaction {
    if (this.pairs >= this.capacity)
      throw new Error(
        `the generator is exhausted: all ${this.o.users} users have had all ${this.o.items} items (${this.capacity} interactions); ask for fewer events or more users or items`,
      );
    for (;;) {
      const user = InteractionGenerator.pick(this.userCdf, this.rng.uniform());
      const cdf = this.cdfOf(user);
      let seen = this.seen.get(user);
      if (!seen) this.seen.set(user, (seen = new Set()));
      if (seen.size >= this.o.items) continue;
      for (let tries = 0; tries < 50; tries++) {
        const item = InteractionGenerator.pick(cdf, this.rng.uniform());
        if (seen.has(item)) continue;
        seen.add(item);
        this.pairs++;
        this.now += 1000 * (1 + this.rng.int(120));
        const a = this.affinity(user, item);
        const rating = Math.max(1, Math.min(5, Math.round(3 + a + this.rng.normal(0, 0.5))));
        return { user, item, rating, ts: this.now };
      }
    }
  }

  /** The first `n` interactions from the current position. */
  take(n: number): Interaction[] {
    return Array.from({ length: n }, () => this.next());
  }
}

export const INTERACTIONS_CSV_HEADER = 'user_id,item_id,rating,timestamp';

/** A CSV row in the input layout (timestamp in epoch seconds, like MovieLens). */
export function toCsvRow(e: Interaction): string {
  return `${e.user},${e.item},${e.rating},${Math.floor(e.ts / 1000)}`;
}
