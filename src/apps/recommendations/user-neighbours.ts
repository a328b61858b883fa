/**
 * Session-based user neighbours (session kNN) for `LiveRecommender`'s `userNeighbours` option:
 * the users who rated the items of a user's recent history are that user's neighbours; the
 * items the closest of them rated add a vote to the item–item scores. It brings in long-term
 * taste (everything a neighbour rated, not only what co-occurred within 20 items), which the
 * item–item counts lack.
 *
 * sim(u, v) = Σ_k 0.9^k · f_k · [v rated h_k] / |items(v)|^0.5 over u's recent items h_k
 * (newest first), f_k = (r_k / r_max)^2 by u's rating of h_k (1 without ratings); the `users` most similar v vote; a candidate j gets
 * weight · (Σ_{v rated j} sim(u, v) / Σ_v sim(u, v)) / n(j)^0.5 (n: its count, so that what
 * every neighbour rated because everyone did counts less). Bounded per query: the last
 * `raters` raters of each history item, the last `items` items of each neighbour.
 */

export interface UserNeighbourOptions {
  /** Weight of the neighbours' vote beside the item–item scores (0: off). */
  weight: number;
  /** Neighbours that vote. */
  users: number;
  /** Most recent raters kept per item (where neighbours are looked for). */
  raters: number;
  /** Most recent items of each neighbour that vote. */
  items: number;
  /**
   * A history item h_k counts (r_k / r_max)^ratingWeight in the similarity, r_k the user's
   * rating of it (the recommender's scale): neighbours are found through what the user liked.
   */
  ratingWeight: number;
}

export const USER_NEIGHBOUR_DEFAULTS: UserNeighbourOptions = {
  weight: 3,
  users: 50,
  raters: 100,
  items: 200,
  ratingWeight: 2,
};

/** A list that keeps its last `cap` entries, trimmed in batches (amortised O(1) per push). */
function pushCapped(list: number[], value: number, cap: number): void {
  list.push(value);
  if (list.length >= 2 * cap) list.splice(0, list.length - cap);
}

export class UserNeighbours {
  /** Per dense item index: dense indexes of its latest raters. */
  private readonly raters: number[][] = [];
  /** Per dense user index: its latest items (dense indexes), oldest first. */
  private readonly items: number[][] = [];
  private sim = new Float64Array(256);
  private votes = new Float64Array(256);
  private users = new Int32Array(256);
  private candidates = new Int32Array(256);

  constructor(private readonly o: UserNeighbourOptions) {}

  get ratingWeight(): number {
    return this.o.ratingWeight;
  }

  /** Learns that `user` rated `item` (dense indexes). */
  add(user: number, item: number): void {
    pushCapped((this.raters[item] ??= []), user, this.o.raters);
    pushCapped((this.items[user] ??= []), item, this.o.items);
  }

  /**
   * Adds the neighbours' votes for `user` (recent items newest first) to `scratch`, recording
   * newly touched candidates in `touched` from `count`; returns the new count. `counts[j]` is
   * item j's interaction count; `factors[k]`, when given, the rating factor f_k of `recent[k]`.
   */
  vote(
    user: number,
    recent: readonly number[],
    window: number,
    scratch: Float64Array,
    touched: Int32Array,
    count: number,
    counts: readonly number[],
    factors?: Float64Array,
  ): number {
    const capacity = this.items.length + 1;
    if (this.sim.length < capacity) {
      this.sim = new Float64Array(capacity * 2);
      this.users = new Int32Array(capacity * 2);
    }
    if (this.votes.length < scratch.length) {
      this.votes = new Float64Array(scratch.length);
      this.candidates = new Int32Array(scratch.length);
    }
    const { sim, users, votes, candidates } = this;
    let nUsers = 0;
    let w = 1;
    for (let q = 0; q < Math.min(window, recent.length); q++, w *= 0.9) {
      const raters = this.raters[recent[q]!] ?? [];
      for (let y = Math.max(0, raters.length - this.o.raters); y < raters.length; y++) {
        const v = raters[y]!;
        if (v === user) continue;
        if (sim[v] === 0) users[nUsers++] = v;
        sim[v] += factors ? w * factors[q]! : w;
      }
    }
    for (let x = 0; x < nUsers; x++) sim[users[x]!]! /= Math.sqrt(this.items[users[x]!]!.length);
    const ranked = users.subarray(0, nUsers).sort((a, b) => sim[b]! - sim[a]! || a - b);
    let total = 0;
    let nCandidates = 0;
    for (let x = 0; x < Math.min(this.o.users, nUsers); x++) {
      const v = ranked[x]!;
      const s = sim[v]!;
      total += s;
      const items = this.items[v]!;
      for (let y = Math.max(0, items.length - this.o.items); y < items.length; y++) {
        const j = items[y]!;
        if (votes[j] === 0) candidates[nCandidates++] = j;
        votes[j] += s;
      }
    }
    for (let x = 0; x < nUsers; x++) sim[users[x]!] = 0;
    for (let x = 0; x < nCandidates; x++) {
      const j = candidates[x]!;
      const add = (this.o.weight * votes[j]!) / total / Math.sqrt(Math.max(1, counts[j]!));
      votes[j] = 0;
      if (scratch[j] === 0) touched[count++] = j;
      scratch[j] += add;
    }
    return count;
  }
}
