/**
 * The live state behind the recommendations: item–item co-occurrence counts (how often two
 * items appear close together in a user's history), item popularity, and per user the recent
 * items and everything already seen. Updated one interaction at a time, queried at any moment.
 *
 * Score of a candidate j for a user with recent items h₀ (newest) … h_L:
 * Σ_k d^k · c(h_k, j) / (n(h_k)^α · n(j)^(1−α)) over each history item's strongest neighbours;
 * items the user has seen are excluded; users without history get the items users most often
 * rate first, users with too few candidates the most popular ones. α = 0.5 would be the
 * cosine: the default α = 0.75 divides less by the candidate's own popularity (popular co-items
 * rank higher). The counts c(i, j) are sequential: a new item j is paired with the user's k-th
 * most recent item i with weight p^k (p = 0.9: nearer items count more), the forward pair
 * i → j fully and the backward one j → i at 0.5, so an item's neighbours lean to what users
 * went on to rate next. p, the backward weight 0.5 and d = 0.8 were chosen on the first 40 % of
 * two public MovieLens sets (100K, and half of 1M) and checked on held-out ones
 * (examples/recommendations/README.md). Ratings, when given, weight both: h_k's vote by
 * (r_k / r_max)^0.5 and a pair by ((r_i · r_j) / r_max²)^0.25 (liked items say more about what
 * comes next; chosen the same way, +2 % on the 100K set's tuning slice).
 */

import { better, siftDown, siftUp } from './neighbour-heap.js';
import { USER_NEIGHBOUR_DEFAULTS, UserNeighbours, type UserNeighbourOptions } from './user-neighbours.js';

export interface Scored {
  item: number;
  score: number;
}

export interface RecommenderOptions {
  /** Items of a user's recent history paired with each new item. */
  pairWindow?: number;
  /** Recent items that vote for candidates. */
  queryWindow?: number;
  /** The k-th most recent item's vote is weighted decay^k (newest: 1). */
  decay?: number;
  /** Neighbours kept per item for queries. */
  neighbours?: number;
  /**
   * How a co-occurrence count is normalised by the two items' counts: c(i, j) / (n(i)^α ·
   * n(j)^(1−α)); 0.5 is the cosine, 1 the conditional frequency of j given i.
   */
  alpha?: number;
  /**
   * When a user rates j after i: j becomes i's neighbour with weight 1 (forward), i becomes
   * j's with this weight (backward). 1 is symmetric co-occurrence, 0 counts transitions only.
   */
  backward?: number;
  /** A new item's pair with the user's k-th most recent item (newest: k = 0) counts pairDecay^k. */
  pairDecay?: number;
  /**
   * Users without history get the items most often rated first (an onboarding flow shows new
   * users the same starter items) rather than the most popular overall; false: most popular.
   */
  firstItems?: boolean;
  /**
   * Session-kNN votes from the users who rated the same recent items (`user-neighbours.ts`);
   * `{ weight: 3 }` or more settings, off by default: costs more per query and interaction.
   */
  userNeighbours?: Partial<UserNeighbourOptions> | null;
  /**
   * A history item's vote is weighted (r / r_max)^ratingWeight by the user's rating r of it
   * (r_max: the highest rating seen so far), so liked items lead; 0: ratings ignored. Items
   * learned without a rating vote fully. Default 0.5 (tuned with `pairRatingWeight` 0.25).
   */
  ratingWeight?: number;
  /**
   * A pair's count is weighted ((r_i / r_max) · (r_h / r_max))^pairRatingWeight by the user's
   * ratings of its two items, so pairs of liked items count more; 0: ratings ignored.
   */
  pairRatingWeight?: number;
}

const DEFAULTS: Required<RecommenderOptions> = {
  pairWindow: 20,
  queryWindow: 20,
  decay: 0.8,
  neighbours: 200,
  alpha: 0.75,
  backward: 0.5,
  pairDecay: 0.9,
  firstItems: true,
  userNeighbours: null,
  ratingWeight: 0.5,
  pairRatingWeight: 0.25,
};

/** Items ranked by how often they occurred, updated in O(1) amortised per increment. */
export class PopularItems {
  private readonly count = new Map<number, number>();
  private readonly position = new Map<number, number>();
  private readonly order: number[] = [];

  increment(item: number): void {
    const c = (this.count.get(item) ?? 0) + 1;
    this.count.set(item, c);
    let at = this.position.get(item);
    if (at === undefined) {
      at = this.order.length;
      this.order.push(item);
    }
    // Bubble up past items with a lower count (ties keep their older rank).
    while (at > 0 && (this.count.get(this.order[at - 1]!) ?? 0) < c) {
      const other = this.order[at - 1]!;
      this.order[at] = other;
      this.position.set(other, at);
      at--;
    }
    this.order[at] = item;
    this.position.set(item, at);
  }

  countOf(item: number): number {
    return this.count.get(item) ?? 0;
  }

  get size(): number {
    return this.order.length;
  }

  /** The k most popular items not in `exclude`. */
  top(k: number, exclude?: ReadonlySet<number>): Scored[] {
    return this.topWhere(k, exclude && ((item) => exclude.has(item)));
  }

  /**
   * The k most popular items for which `skip` is false, walking the ranking in place (a query
   * per event and per request: no copy of the ranking, only the k results are allocated).
   */
  topWhere(k: number, skip?: (item: number) => boolean): Scored[] {
    const out: Scored[] = [];
    for (let i = 0; i < this.order.length && out.length < k; i++) {
      const item = this.order[i]!;
      if (!skip?.(item)) out.push({ item, score: this.count.get(item)! });
    }
    return out;
  }
}

interface Neighbours {
  /** Dense indexes, strongest first (typed arrays: their contents are off the GC'd heap). */
  items: Int32Array;
  weights: Float64Array;
  /** Row updates when computed: recomputed once the row grew by 25 %. */
  at: number;
}

export class LiveRecommender {
  readonly popular = new PopularItems();
  /** Items counted as the first of a user's history only (`firstItems`). */
  readonly firstPopular = new PopularItems();
  /** Items get dense indexes on first sight, so query scratch space is a plain array. */
  private readonly index = new Map<number, number>();
  private readonly itemOf: number[] = [];
  private readonly rows: Map<number, number>[] = [];
  private readonly rowUpdates: number[] = [];
  /**
   * Per dense index, n^(1−α) of the item's count n: the candidate side of the normalisation,
   * updated once per interaction so a neighbour refresh reads it instead of a map lookup and a
   * power per co-item (that power cost 13 % of an unpaced replay's throughput).
   */
  private readonly candidateNorm: number[] = [];
  private readonly neighbourCache: (Neighbours | undefined)[] = [];
  /**
   * Per user: recent items (dense, newest first), everything seen with its rating (NaN when
   * learned without one: a map keyed by item, so an adopted `recent` list needs no ratings
   * beside it), and its own dense index.
   */
  private readonly users = new Map<number, { recent: number[]; seen: Map<number, number>; at: number }>();
  /** The highest rating learned so far (`ratingWeight`'s scale: 5 on MovieLens). */
  private maxRating = 0;
  /** Per dense index, the item's interaction count n(i) (`popular` keeps the same by item id, for ranking). */
  private readonly counts: number[] = [];
  private readonly userNeighbours: UserNeighbours | undefined;
  private readonly o: Required<RecommenderOptions>;
  private scratch = new Float64Array(1024);
  /**
   * The candidates a query touched (each once: at most one per item, so as long as `scratch`).
   * A typed array with a count, not a JS array emptied with `length = 0`: that frees the
   * backing store, and regrowing it on every query was half of the demo's garbage (its
   * scavenges paused the serving loop for 2–5 ms several times a second).
   */
  private touched = new Int32Array(1024);
  /** A query's k best candidates so far (item ids, scores), sorted. */
  private topItems = new Float64Array(16);
  private topScores = new Float64Array(16);
  /** A min-heap of the strongest neighbours while a row is ranked (reused: no per-row garbage). */
  private heapItems = new Int32Array(0);
  private heapWeights = new Float64Array(0);
  /** The user neighbours' per-history-item rating factors (reused per query). */
  private historyFactors = new Float64Array(0);
  /** Interactions learned so far. */
  events = 0;

  constructor(opts: RecommenderOptions = {}) {
    this.o = { ...DEFAULTS, ...opts };
    if (this.o.userNeighbours && this.o.userNeighbours.weight !== 0)
      this.userNeighbours = new UserNeighbours({ ...USER_NEIGHBOUR_DEFAULTS, ...this.o.userNeighbours });
    this.historyFactors = new Float64Array(this.o.queryWindow);
  }

  get userCount(): number {
    return this.users.size;
  }

  /** The user's recent items, newest first (empty for an unknown user). */
  history(user: number): number[] {
    return (this.users.get(user)?.recent ?? []).map((i) => this.itemOf[i]!);
  }

  private indexOf(item: number): number {
    let i = this.index.get(item);
    if (i === undefined) {
      i = this.itemOf.length;
      this.index.set(item, i);
      this.itemOf.push(item);
      this.rows.push(new Map());
      this.rowUpdates.push(0);
      this.candidateNorm.push(1);
      this.counts.push(0);
      this.neighbourCache.push(undefined);
      if (this.scratch.length <= i) {
        const bigger = new Float64Array(this.scratch.length * 2);
        bigger.set(this.scratch);
        this.scratch = bigger;
        this.touched = new Int32Array(bigger.length); // empty between queries
      }
    }
    return i;
  }

  private bump(i: number, j: number, w: number): void {
    const row = this.rows[i]!;
    row.set(j, (row.get(j) ?? 0) + w);
    this.rowUpdates[i]!++;
  }

  /**
   * Learns one interaction: pairs it with the user's recent items, counts it, extends the
   * history. `recent` (newest first), when given, is the user's history as the pipeline's keyed
   * state holds it; the view adopts it, so the state stays the source of truth. `rating`, when
   * given, weights the item's votes and pairs (`ratingWeight`, `pairRatingWeight`).
   */
  observe(user: number, item: number, recent?: readonly number[], rating?: number): void {
    const i = this.indexOf(item);
    let u = this.users.get(user);
    if (!u) this.users.set(user, (u = { recent: [], seen: new Map(), at: this.users.size }));
    if (recent) u.recent = recent.map((r) => this.indexOf(r));
    const window = Math.min(this.o.pairWindow, u.recent.length);
    const { backward, pairDecay, pairRatingWeight } = this.o;
    if (rating !== undefined && rating > this.maxRating) this.maxRating = rating;
    const r = pairRatingWeight === 0 ? 1 : this.ratingFactor(rating ?? NaN, pairRatingWeight);
    let w = 1;
    for (let k = 0; k < window; k++, w *= pairDecay) {
      const h = u.recent[k]!;
      if (h === i) continue;
      const rw =
        pairRatingWeight === 0 ? w : w * r * this.ratingFactor(u.seen.get(h) ?? NaN, pairRatingWeight);
      this.bump(h, i, rw); // forward: i came after h
      if (backward > 0) this.bump(i, h, rw * backward);
    }
    this.popular.increment(item);
    this.counts[i]!++;
    this.userNeighbours?.add(u.at, i);
    if (u.seen.size === 0 && this.o.firstItems) this.firstPopular.increment(item);
    this.candidateNorm[i] = this.counts[i]! ** (1 - this.o.alpha);
    u.seen.set(i, rating ?? NaN);
    u.recent.unshift(i);
    if (u.recent.length > Math.max(this.o.pairWindow, this.o.queryWindow)) u.recent.pop();
    this.events++;
  }

  /** The strongest neighbours of an item (dense index) by normalised co-occurrence, cached. */
  private neighbours(i: number): Neighbours {
    const updates = this.rowUpdates[i]!;
    const cached = this.neighbourCache[i];
    if (cached && updates < cached.at * 1.25 + 20) return cached;
    const ni = Math.max(1, this.counts[i]!) ** this.o.alpha;
    const norm = this.candidateNorm;
    const row = this.rows[i]!;
    const cap = Math.min(this.o.neighbours, row.size);
    if (this.heapItems.length < cap) {
      this.heapItems = new Int32Array(this.o.neighbours);
      this.heapWeights = new Float64Array(this.o.neighbours);
    }
    // The `cap` strongest by a min-heap (root = the weakest kept), then emptied weakest first
    // into the result from its end. Rebuilt on every 25 % growth of a row, often enough that a
    // full sort's garbage (a pair per co-item) showed up as GC pauses in the serving latency.
    const hi = this.heapItems;
    const hw = this.heapWeights;
    let size = 0;
    row.forEach((c, j) => {
      const w = c / (ni * norm[j]!);
      if (size < cap) {
        siftUp(hi, hw, size++, j, w);
      } else if (better(w, j, hw[0]!, hi[0]!)) {
        siftDown(hi, hw, size, j, w);
      }
    });
    const items = new Int32Array(size);
    const weights = new Float64Array(size);
    for (let at = size - 1; at >= 0; at--) {
      items[at] = hi[0]!;
      weights[at] = hw[0]!;
      // The heap shrinks to `at` entries: its last one is re-placed from the root.
      if (at > 0) siftDown(hi, hw, at, hi[at]!, hw[at]!);
    }
    const n: Neighbours = { items, weights, at: updates };
    this.neighbourCache[i] = n;
    return n;
  }

  /** Top-k items for a user from the current state (popular items fill in for thin histories). */
  recommend(user: number, k: number): Scored[] {
    const u = this.users.get(user);
    if (!u || u.recent.length === 0) {
      // Until k first items are known, the overall ranking (no half-filled list).
      return this.firstPopular.size >= k ? this.firstPopular.top(k) : this.popular.top(k);
    }
    const { scratch, touched } = this;
    let count = 0;
    let decay = 1;
    const { ratingWeight } = this.o;
    for (let q = 0; q < Math.min(this.o.queryWindow, u.recent.length); q++) {
      const n = this.neighbours(u.recent[q]!);
      const w =
        ratingWeight === 0 ? decay : decay * this.ratingFactor(u.seen.get(u.recent[q]!) ?? NaN, ratingWeight);
      for (let x = 0; x < n.items.length; x++) {
        const j = n.items[x]!;
        if (scratch[j] === 0) touched[count++] = j;
        scratch[j] += w * n.weights[x]!;
      }
      decay *= this.o.decay;
    }
    if (this.userNeighbours) {
      const power = this.userNeighbours.ratingWeight;
      const window = Math.min(this.o.queryWindow, u.recent.length);
      const f = power === 0 ? undefined : this.historyFactors.subarray(0, window);
      for (let q = 0; f && q < window; q++) f[q] = this.ratingFactor(u.seen.get(u.recent[q]!) ?? NaN, power);
      count = this.userNeighbours.vote(u.at, u.recent, window, scratch, touched, count, this.counts, f);
    }
    // The k best so far, kept sorted in reused typed arrays (no object per insertion); seen
    // items are skipped here, once per candidate, rather than once per vote.
    if (this.topItems.length < k)
      [this.topItems, this.topScores] = [new Float64Array(k), new Float64Array(k)];
    const { topItems, topScores } = this;
    let size = 0;
    for (let t = 0; t < count; t++) {
      const j = touched[t]!;
      const score = scratch[j]!;
      scratch[j] = 0;
      const item = this.itemOf[j]!;
      if (size === k && !better(score, item, topScores[k - 1]!, topItems[k - 1]!)) continue;
      if (u.seen.has(j)) continue;
      let at = size < k ? size++ : k - 1;
      for (; at > 0 && better(score, item, topScores[at - 1]!, topItems[at - 1]!); at--) {
        topItems[at] = topItems[at - 1]!;
        topScores[at] = topScores[at - 1]!;
      }
      topItems[at] = item;
      topScores[at] = score;
    }
    const best: Scored[] = [];
    for (let x = 0; x < size; x++) best.push({ item: topItems[x]!, score: topScores[x]! });
    if (best.length < k) {
      const fill = this.popular.topWhere(
        k - best.length,
        (item) => u.seen.has(this.index.get(item)!) || best.some((s) => s.item === item),
      );
      for (const p of fill) best.push({ item: p.item, score: 0 });
    }
    return best;
  }

  /** (r / r_max)^power, 1 without a rating; floored: a disliked item still says a little. */
  private ratingFactor(rating: number, power: number): number {
    if (Number.isNaN(rating) || this.maxRating <= 0) return 1;
    return Math.max(0.05, rating / this.maxRating) ** power;
  }

  /** The popularity baseline for a user: the k most popular items the user has not seen. */
  recommendPopular(user: number, k: number): Scored[] {
    const u = this.users.get(user);
    if (!u) return this.popular.top(k);
    return this.popular.topWhere(k, (item) => u.seen.has(this.index.get(item)!));
  }
}
