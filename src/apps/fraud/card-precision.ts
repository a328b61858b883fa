/**
 * Card precision top-k, the Fraud Detection Handbook's operational metric: each day, the k
 * cards (customers) with the highest fraud score that day (a card's score = its highest
 * transaction score) go to investigators, and the precision is the share of them that had a
 * fraud that day. Cards found compromised are removed from the following days' rankings (they
 * are blocked). The result is the mean over days.
 */

const DAY = 86_400_000;

/** Per-day card precision@k over transactions (score, label, card, time); mean and per-day values. */
export function cardPrecisionAtK(
  rows: {
    scores: ArrayLike<number>;
    labels: ArrayLike<number>;
    cards: ArrayLike<number>;
    times: ArrayLike<number>;
  },
  k = 100,
): { mean: number; perDay: number[] } {
  const byDay = new Map<number, Map<number, { score: number; fraud: number }>>();
  for (let i = 0; i < rows.scores.length; i++) {
    const day = Math.floor(rows.times[i]! / DAY);
    let cards = byDay.get(day);
    if (!cards) byDay.set(day, (cards = new Map()));
    const c = cards.get(rows.cards[i]!);
    if (!c) cards.set(rows.cards[i]!, { score: rows.scores[i]!, fraud: rows.labels[i]! });
    else {
      c.score = Math.max(c.score, rows.scores[i]!);
      c.fraud = Math.max(c.fraud, rows.labels[i]!);
    }
  }
  const blocked = new Set<number>();
  const perDay: number[] = [];
  for (const day of [...byDay.keys()].sort((a, b) => a - b)) {
    const ranked = [...byDay.get(day)!.entries()]
      .filter(([card]) => !blocked.has(card))
      .sort((a, b) => b[1].score - a[1].score || a[0] - b[0])
      .slice(0, k);
    let hits = 0;
    for (const [card, c] of ranked) {
      if (c.fraud) {
        hits++;
        blocked.add(card);
      }
    }
    perDay.push(hits / k);
  }
  const mean = perDay.length ? perDay.reduce((a, b) => a + b, 0) / perDay.length : NaN;
  return { mean, perDay };
}
