import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import { bucketKey, recordedMicros } from '../../src/observe/histogram.js';
import { WindowedHistogram, recordTimesSince } from '../../src/observe/index.js';
import { seededRandom } from '../../src/core/random.js';

// The histogram's own configuration (src/observe/histogram.ts): its bucket layout is what
// bucketKey must reproduce.
const reference = hdr.build({
  bitBucketSize: 64,
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 3,
  autoResize: false,
}) as hdr.JsHistogram;

describe('histogram bucket runs', () => {
  it('bucketKey is equal exactly when HdrHistogram counts two values in the same bucket', () => {
    const rand = seededRandom(7);
    const values: number[] = [
      0,
      1,
      1023,
      1024,
      2047,
      2048,
      2049,
      4095,
      4096,
      2 ** 31 - 1,
      2 ** 31,
      3_600_000_000,
    ];
    for (let k = 0; k < 32; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.exp(rand() * Math.log(3.6e9))));
    const inRange = values.filter((v) => v <= 3_600_000_000).sort((a, b) => a - b);
    // Neighbours in sorted order, and random pairs.
    for (let i = 1; i < inRange.length; i++) {
      const a = inRange[i - 1]!;
      const b = inRange[i]!;
      assert.equal(
        bucketKey(a) === bucketKey(b),
        reference.countsArrayIndex(a) === reference.countsArrayIndex(b),
        `${a} and ${b}`,
      );
    }
    for (let i = 0; i < 20_000; i++) {
      const a = inRange[Math.floor(rand() * inRange.length)]!;
      const b = a + Math.floor(rand() * Math.max(1, a / 500));
      if (b > 3_600_000_000) continue;
      assert.equal(
        bucketKey(a) === bucketKey(b),
        reference.countsArrayIndex(a) === reference.countsArrayIndex(b),
        `${a} and ${b}`,
      );
    }
  });

  it('recordTimesSince gives the same counts, percentiles, min and max as one record per value', () => {
    const rand = seededRandom(11);
    const t = 1_700_000_000_000;
    // Event times as a replay and a live stream give them: runs of equal times, times a few ms
    // apart, lags from sub-millisecond to beyond the one-hour clamp, some in the future.
    const records: { eventTime: number }[] = [];
    let e = t - 5_000_000;
    for (let i = 0; i < 30_000; i++) {
      if (rand() < 0.7) e += rand() < 0.5 ? 0 : rand() * 3;
      else e = t - Math.exp(rand() * Math.log(8e6)) + (rand() < 0.01 ? 10 : 0);
      records.push({ eventTime: e });
    }
    const batched = new WindowedHistogram();
    const each = new WindowedHistogram();
    for (let from = 0; from < records.length; from += 1024)
      recordTimesSince(batched, records.slice(from, from + 1024), 'eventTime', t);
    for (const r of records) each.record(t - r.eventTime);
    assert.deepEqual(batched.summary(), each.summary());
    const bounds = Array.from({ length: 400 }, (_, k) => Math.exp((k / 400) * Math.log(4e6)) * 0.001);
    assert.deepEqual(batched.foldedCountsAtOrBelow(bounds), each.foldedCountsAtOrBelow(bounds));
    assert.equal(batched.count, 30_000);

    // Within the hour, the largest and smallest lags sit in runs of several values of one bucket:
    // the exact max and min must survive the merging.
    const close = Array.from({ length: 3000 }, (_, i) => ({ eventTime: t - 1_000_000 - (i % 1000) * 0.013 }));
    const a = new WindowedHistogram();
    const b = new WindowedHistogram();
    recordTimesSince(a, close, 'eventTime', t);
    for (const r of close) b.record(t - r.eventTime);
    assert.deepEqual(a.summary(), b.summary());
    assert.equal(a.summary().max, 1_000_012.987);
    assert.equal(recordedMicros(-3), 0);
    assert.equal(recordedMicros(1e12), 3_600_000_000);
  });
});
