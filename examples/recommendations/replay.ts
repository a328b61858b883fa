/**
 * The prequential check without the pipeline: replays a ratings CSV (`user_id,item_id,...`
 * header, then rows in time order) through `LiveRecommender` directly, scoring each rating
 * against the user's top 10 before learning it, and prints hit rate@10, NDCG@10 and the
 * most-popular baseline's hit rate for the ratings from `--from` (every rating is learned, with
 * its rating when the third column has one).
 * Used to choose and check the recommender's options on part of a stream (README.md):
 *
 *   node --import tsx examples/recommendations/replay.ts ratings.csv --from 55000 --options '{"alpha":0.5,"decay":0.95}'
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LiveRecommender, type RecommenderOptions } from '../../src/apps/recommendations/recommender.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: 'string' }, to: { type: 'string' }, options: { type: 'string' } },
});
const rows = readFileSync(positionals[0] ?? 'ratings.csv', 'utf8')
  .trim()
  .split('\n')
  .slice(1);
const from = Number(values.from ?? 10_000);
const to = Math.min(rows.length, Number(values.to ?? rows.length));
const live = new LiveRecommender(JSON.parse(values.options ?? '{}') as RecommenderOptions);
let scored = 0;
let hits = 0;
let ndcg = 0;
let popular = 0;
for (let x = 0; x < to; x++) {
  // The third column is the rating (ratingWeight, pairRatingWeight), as the demo's CSV source.
  const [user, item, rating] = rows[x]!.split(',', 3).map(Number) as [number, number, number?];
  if (x >= from) {
    scored++;
    const at = live.recommend(user, 10).findIndex((s) => s.item === item);
    if (at >= 0) {
      hits++;
      ndcg += 1 / Math.log2(at + 2);
    }
    if (live.recommendPopular(user, 10).some((s) => s.item === item)) popular++;
  }
  live.observe(user, item, undefined, rating);
}
const r = (v: number) => Number((v / Math.max(1, scored)).toFixed(4));
process.stdout.write(
  JSON.stringify({
    from,
    to,
    scored,
    hit_rate_at_10: r(hits),
    ndcg_at_10: r(ndcg),
    popular_hit_rate_at_10: r(popular),
  }) + '\n',
);
