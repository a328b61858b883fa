/**
 * The live state behind the recommendations: item–item co-occurrence counts (how often two
 * items appear close together in a user's history), item popularity, and per user the recent
 * items and everything already seen. Updated one interaction at a time, queried at any moment.
 *
 * Score of a candidate j for a user with recent items h₁ (newest) … h_L:
 * Σ_k 0.95^k · c(h_k, j) / √(n(h_k) · n(j)), the cosine-normalised co-occurrence, over each
 * history item's strongest neighbours; items the user has seen are excluded; users without
 * history (or too few candidates) get the most popular items.
 */

export interface Scored {
  item: number;
  score: number;
}

export interface RecommenderOptions {
  /** Items of a user's recent history paired with each new item. */
  pairWindow?: number;
  /** Recent items that vote for candidates. */
  queryWindow?: number;
  /** Neighbours kept per item for queries. */
  neighbours?: number;
}

const DEFAULTS = { pairWindow: 20, queryWindow: 20, neighbours: 200 };

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
    const out: Scored[] = [];
    for (let i = 0; i < this.order.length && out.length < k; i++) {
      const item = this.order[i]!;
      if (!exclude?.has(item)) out.push({ item, score: this.count.get(item)! });
    }
    return out;
  }
}

interface Neighbours {
  items: number[];
  weights: number[];
  /** Row updates when computed: recomputed once the row grew by 25 %. */
  at: number;
}

export class LiveRecommender {
  readonly popular = new PopularItems();
  /** Items get dense indexes on first sight, so query scratch space is a plain array. */
  private readonly index = new Map<number, number>();
  private readonly itemOf: number[] = [];
  private readonly rows: Map<number, number>[] = [];
  private readonly rowUpdates: number[] = [];
  private readonly neighbourCache: (Neighbours | undefined)[] = [];
  private readonly users = new Map<number, { recent: number[]; seen: Set<number> }>();
  private readonly o: Required<RecommenderOptions>;
  private scratch = new Float64Array(1024);
  private readonly touched: number[] = [];
  /** Interactions learned so far. */
  events = 0;

  constructor(opts: RecommenderOptions = {}) {
    this.o = { ...DEFAULTS, ...opts };
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
      this.neighbourCache.push(undefined);
      if (this.scratch.length <= i) {
        const bigger = new Float64Array(this.scratch.length * 2);
        bigger.set(this.scratch);
        this.scratch = bigger;
      }
    }
    return i;
  }

  private bump(i: number, j: number): void {
    const row = this.rows[i]!;
    row.set(j, (row.get(j) ?? 0) + 1);
    this.rowUpdates[i]!++;
  }

  /**
   * Learns one interaction: pairs it with the user's recent items, counts it, extends the
   * history. `recent` (newest first), when given, is the user's history as the pipeline's keyed
   * state holds it; the view adopts it, so the state stays the source of truth.
   */
  observe(user: number, item: number, recent?: readonly number[]): void {
    const i = this.indexOf(item);
    let u = this.users.get(user);
    if (!u) this.users.set(user, (u = { recent: [], seen: new Set() }));
    if (recent) u.recent = recent.map((r) => this.indexOf(r));
    const window = Math.min(this.o.pairWindow, u.recent.length);
    for (let k = 0; k < window; k++) {
      const h = u.recent[k]!;
      if (h === i) continue;
      this.bump(h, i);
      this.bump(i, h);
    }
    this.popular.increment(item);
    u.seen.add(i);
    u.recent.unshift(i);
    if (u.recent.length > Math.max(this.o.pairWindow, this.o.queryWindow)) u.recent.pop();
    this.events++;
  }

  /** The strongest neighbours of an item (dense index) by normalised co-occurrence, cached. */
  private neighbours(i: number): Neighbours {
    const updates = this.rowUpdates[i]!;
    const cached = this.neighbourCache[i];
    if (cached && updates < cached.at * 1.25 + 20) return cached;
    const ni = Math.max(1, this.popular.countOf(this.itemOf[i]!));
    const list: [number, number][] = [];
    for (const [j, c] of this.rows[i]!)
      list.push([j, c / Math.sqrt(ni * Math.max(1, this.popular.countOf(this.itemOf[j]!)))]);
    list.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const top = list.slice(0, this.o.neighbours);
    const n: Neighbours = { items: top.map((x) => x[0]), weights: top.map((x) => x[1]), at: updates };
    this.neighbourCache[i] = n;
    return n;
  }

  /** Top-k items for a user from the current state (popular items fill in for thin histories). */
  recommend(user: number, k: number): Scored[] {
    const u = this.users.get(user);
    if (!u || u.recent.length === 0) return this.popular.top(k);
    const { scratch, touched } = this;
    let decay = 1;
    for (let q = 0; q < Math.min(this.o.queryWindow, u.recent.length); q++) {
      const n = this.neighbours(u.recent[q]!);
      for (let x = 0; x < n.items.length; x++) {
        const j = n.items[x]!;
        if (scratch[j] === 0) touched.push(j);
        scratch[j] += decay * n.weights[x]!;
      }
      decay *= 0.95;
    }
    const best: Scored[] = [];
    // Seen items are skipped here, once per candidate, rather than once per vote.
    for (const j of touched) {
      const score = scratch[j]!;
      scratch[j] = 0;
      if ((best.length < k || better(score, this.itemOf[j]!, best[k - 1]!)) && !u.seen.has(j))
        pushTop(best, k, this.itemOf[j]!, score);
    }
    touched.length = 0;
    if (best.length < k) {
      const taken = new Set(best.map((s) => s.item));
      const seen = new Set([...u.seen].map((i) => this.itemOf[i]!));
      for (const p of this.popular.top(k + taken.size, seen))
        if (best.length < k && !taken.has(p.item)) best.push({ item: p.item, score: 0 });
    }
    return best;
  }

  /** The popularity baseline for a user: the k most popular items the user has not seen. */
  recommendPopular(user: number, k: number): Scored[] {
    const u = this.users.get(user);
    if (!u) return this.popular.top(k);
    const out: Scored[] = [];
    for (const p of this.popular.top(k + u.seen.size)) {
      if (out.length === k) break;
      if (!u.seen.has(this.index.get(p.item)!)) out.push(p);
    }
    return out;
  }
}

/** Inserts (item, score) into `best`, kept sorted and at most k long (ties: lower item id first). */
function pushTop(best: Scored[], k: number, item: number, score: number): void {
  if (best.length === k && !better(score, item, best[k - 1]!)) return;
  let at = best.length < k ? best.length : k - 1;
  if (best.length < k) best.push({ item, score });
  while (at > 0 && better(score, item, best[at - 1]!)) {
    best[at] = best[at - 1]!;
    at--;
  }
  best[at] = { item, score };
}

const better = (score: number, item: number, than: Scored) =>
  score > than.score || (score === than.score && item < than.item);
