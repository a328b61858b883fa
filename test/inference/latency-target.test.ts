import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyTargetController } from '../../src/inference/index.js';

/** Feeds one decision window: `n` latencies (the top 2 % at `tailMs`), batches, busy time. */
function window(
  c: LatencyTargetController,
  t: number,
  o: { n?: number; baseMs: number; tailMs?: number; runMs?: number; full?: boolean; busyShare?: number },
): number {
  const n = o.n ?? 200;
  for (let i = 0; i < n; i++) c.observe(i >= n * 0.98 ? (o.tailMs ?? o.baseMs) : o.baseMs);
  for (let i = 0; i < 20; i++) c.batchDone(o.runMs ?? 1, o.full ?? false);
  const span = 100;
  c.busy(true, t);
  c.busy(false, t + span * (o.busyShare ?? 0.3));
  c.maybeAdjust(t + span);
  return t + span;
}

describe('latency-target controller', () => {
  it('starts greedy (no delay, the full batch size) and rejects a bad target or bound', () => {
    const c = new LatencyTargetController({ targetP99Ms: 20 }, 512, 5, 0);
    assert.equal(c.batchLimit, 512);
    assert.equal(c.delayMs, 0);
    assert.throws(() => new LatencyTargetController({ targetP99Ms: 0 }, 512, 5, 0), /targetP99Ms is 0/);
    assert.throws(
      () => new LatencyTargetController({ targetP99Ms: 10, minBatchSize: 600 }, 512, 5, 0),
      /minBatchSize is 600/,
    );
  });

  it('with headroom and a busy model grows the delay, by steps, never past its bound', () => {
    const c = new LatencyTargetController({ targetP99Ms: 20 }, 512, 3, 0);
    let t = 0;
    t = window(c, t, { baseMs: 5, runMs: 8, busyShare: 0.95 });
    assert.equal(c.delayMs, 1, 'a twentieth of the target');
    for (let i = 0; i < 10; i++) t = window(c, t, { baseMs: 5, runMs: 8, busyShare: 0.95 });
    assert.equal(c.delayMs, 3, 'bounded by maxQueueDelayMicros');
    // an idle model: a delay only adds latency, so it goes
    for (let i = 0; i < 12; i++) t = window(c, t, { baseMs: 5, busyShare: 0.2 });
    assert.equal(c.delayMs, 0);
  });

  it('over the target with calls too long: the delay goes first, then the limit shrinks, to its bound', () => {
    const c = new LatencyTargetController({ targetP99Ms: 20, minBatchSize: 100 }, 1000, 5, 0);
    let t = 0;
    for (let i = 0; i < 5; i++) t = window(c, t, { baseMs: 5, runMs: 10, busyShare: 0.95 });
    assert.equal(c.delayMs, 5);
    t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 12, busyShare: 0.95 });
    assert.equal(c.delayMs, 2.5, 'the delay halves');
    assert.equal(c.batchLimit, 1000, 'the limit waits until the delay is gone');
    for (let i = 0; i < 10 && c.delayMs > 0; i++) t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 12 });
    assert.equal(c.delayMs, 0);
    t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 12 });
    assert.equal(c.batchLimit, 700);
    for (let i = 0; i < 20; i++) t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 12 });
    assert.equal(c.batchLimit, 100, 'bounded by minBatchSize');
  });

  it('over the target with short calls: a saturated model gets a longer delay, an idle one a shorter', () => {
    const c = new LatencyTargetController({ targetP99Ms: 20 }, 1000, 5, 0);
    let t = 0;
    t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 5, busyShare: 0.95 });
    assert.equal(c.delayMs, 1, 'queueing on a busy model: more rows per call');
    t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 5, busyShare: 0.95 });
    assert.equal(c.delayMs, 2);
    window(c, t, { baseMs: 5, tailMs: 30, runMs: 5, busyShare: 0.4 });
    assert.equal(c.delayMs, 1, 'the model has idle time: the delay is only latency');
    assert.equal(c.batchLimit, 1000);
  });

  it('keeps the delay within half the median call on a saturated model, whatever the p99 says', () => {
    // near saturation (busy 95 %) the rules above grow the delay every window; calls of 4 ms
    // mean a delay past 2 ms holds a batch after the model is free, and the model then idles
    const c = new LatencyTargetController({ targetP99Ms: 20 }, 1000, 10, 0);
    let t = 0;
    for (let i = 0; i < 12; i++) t = window(c, t, { baseMs: 5, runMs: 4, busyShare: 0.95 });
    assert.equal(c.delayMs, 2, 'headroom: grew by steps of 1 ms up to half the call');
    for (let i = 0; i < 6; i++) t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 4, busyShare: 0.95 });
    assert.equal(c.delayMs, 2, 'over the target: still no more than half the call');
    t = window(c, t, { baseMs: 5, tailMs: 18, runMs: 1, busyShare: 0.95 });
    assert.equal(c.delayMs, 0.5, 'shorter calls (in the hold band): the delay comes down to the new cap');
  });

  it('grows a binding limit with headroom, and by half when it caps a backlog on a busy model', () => {
    const c = new LatencyTargetController({ targetP99Ms: 20 }, 4096, 0, 0);
    let t = 0;
    for (let i = 0; i < 30; i++) t = window(c, t, { baseMs: 5, tailMs: 30, runMs: 12 });
    const small = c.batchLimit;
    assert.ok(small < 100, `shrunk to ${small}`);
    t = window(c, t, { baseMs: 5, runMs: 1, full: true });
    assert.equal(c.batchLimit, Math.ceil(small * 1.25), 'headroom: +25 %');
    const before = c.batchLimit;
    t = window(c, t, { baseMs: 5, tailMs: 40, runMs: 1, full: true, busyShare: 0.95 });
    assert.equal(
      c.batchLimit,
      Math.ceil(before * 1.5),
      'over the target, full batches of short calls on a busy model: a backlog',
    );
    for (let i = 0; i < 40; i++) t = window(c, t, { baseMs: 5, runMs: 1, full: true });
    assert.equal(c.batchLimit, 4096, 'bounded by maxBatchSize');
  });

  it('holds under noise: a p99 between 75 % and 100 % of the target, or too few samples, changes nothing', () => {
    const c = new LatencyTargetController({ targetP99Ms: 20 }, 512, 5, 0);
    let t = 0;
    t = window(c, t, { baseMs: 5, busyShare: 0.95 });
    const knobs = [c.batchLimit, c.delayMs];
    for (let i = 0; i < 10; i++)
      t = window(c, t, { baseMs: 5, tailMs: 16 + (i % 4), busyShare: 0.95, full: true });
    assert.deepEqual([c.batchLimit, c.delayMs], knobs);
    // 50 samples, all far over the target: not enough to judge
    assert.equal(c.maybeAdjust(t), false);
    for (let i = 0; i < 50; i++) c.observe(100);
    assert.equal(c.maybeAdjust(t + 100), false);
    assert.deepEqual([c.batchLimit, c.delayMs], knobs);
    assert.equal(c.stats().adjustments, 1);
  });
});
