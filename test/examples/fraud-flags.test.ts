// The fraud features' weekend and night flags are computed with arithmetic on epoch ms (no Date
// per record on the hot path); they must equal what the Date methods give, at every edge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNight, isWeekend } from '../../src/apps/fraud/features.js';

const viaDate = {
  weekend: (ts: number) => {
    const d = new Date(ts).getUTCDay();
    return d === 0 || d === 6 ? 1 : 0;
  },
  night: (ts: number) => (new Date(ts).getUTCHours() <= 6 ? 1 : 0),
};

test('isWeekend and isNight equal the UTC Date methods', () => {
  const edges = [
    0,
    -1,
    -0.5,
    0.5,
    6 * 3_600_000,
    7 * 3_600_000 - 1,
    7 * 3_600_000,
    -86_400_000,
    1.7e12 + 0.9,
  ];
  const range = [8.64e15, -8.64e15, 8.64e15 + 1, -8.64e15 - 1, NaN, Infinity, -Infinity];
  const values = [...edges, ...range];
  // Every hour boundary over two weeks around the epoch and around 2023, and random times.
  for (const base of [-7 * 86_400_000, 1_672_531_200_000])
    for (let h = 0; h < 14 * 24; h++) values.push(base + h * 3_600_000, base + h * 3_600_000 - 1);
  let seed = 7;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) values.push(Math.floor((rand() - 0.5) * 4e12), (rand() - 0.5) * 2e13);
  for (const ts of values) {
    assert.equal(isWeekend(ts), viaDate.weekend(ts), `weekend ${ts}`);
    assert.equal(isNight(ts), viaDate.night(ts), `night ${ts}`);
  }
});
