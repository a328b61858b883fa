import type { Envelope, RecordKey } from '../envelope.js';
import { WatermarkTracker, type WatermarkOptions } from '../time/watermarks.js';
import { TimerHeap } from '../windows/min-heap.js';

/** Where a key's pending timers are kept in its state: checkpointed with it, never a user name. */
export const TIMERS_SLOT = '\u0000timers';

/**
 * Event-time timers of a keyed processor: the watermark of its input (as windows keep one) and
 * the (time, key) pairs due, in a heap rebuilt from the keys' state at start. The times of a
 * key's pending timers live in its state (`TIMERS_SLOT`), so they survive a restart with it.
 */
export class KeyedTimers {
  readonly wm: WatermarkTracker;
  private readonly heap = new TimerHeap<RecordKey>();

  constructor(opts: Partial<WatermarkOptions>) {
    this.wm = new WatermarkTracker({
      outOfOrderness: opts.outOfOrderness ?? 0,
      idleTimeoutMs: opts.idleTimeoutMs,
    });
  }

  observe(env: Envelope): void {
    this.wm.observeRecord(env.topic, env.partition, env.eventTime, performance.now());
  }

  /** Adds `time` to the key's sorted `times` (its state slot); false if it was there already. */
  add(times: number[], time: number, key: RecordKey): boolean {
    let i = times.length;
    while (i > 0 && times[i - 1]! > time) i--;
    if (i > 0 && times[i - 1] === time) return false;
    times.splice(i, 0, time);
    this.heap.push(time, key);
    return true;
  }

  /** Whether a timer is due at or before `upTo` (a check per record: no call into the heap). */
  due(upTo: number): boolean {
    return this.heap.size > 0 && this.heap.peekEnd() <= upTo;
  }

  /** The next (time, keys) due at or before `upTo`, or undefined; stale entries are the caller's to skip. */
  next(upTo: number): [number, RecordKey[]] | undefined {
    return this.heap.size > 0 && this.heap.peekEnd() <= upTo ? this.heap.pop() : undefined;
  }

  /** Rebuilds the heap from every key's pending timers (once, at start). */
  rebuild(entries: Iterable<[RecordKey, number[] | undefined]>): void {
    this.heap.clear();
    for (const [key, times] of entries) for (const t of times ?? []) this.heap.push(t, key);
  }
}
