import { requireOption } from '../errors.js';

export interface WatermarkOptions {
  /** How far behind the newest event time a record may arrive and still be on time. */
  outOfOrderness: number;
  /** A partition silent this long (processing time) stops holding the watermark back. Default 10 s. */
  idleTimeoutMs?: number;
  /** Processing-time clock (tests pass a fake one). */
  now?: () => number;
}

interface PartitionTime {
  maxEventTime: number;
  lastSeenAt: number;
  idle: boolean;
}

/**
 * Event-time watermarks: per partition, the newest event time seen minus the allowed
 * out-of-orderness; the pipeline's watermark is the minimum over partitions that are not idle,
 * so one quiet partition does not stall every window.
 *
 * @example
 * const wm = new WatermarkTracker({ outOfOrderness: 5_000 });
 * wm.observe('tx/0', Date.parse('2026-01-01T00:00:10Z'));
 * wm.current; // 10 s after midnight minus 5 s
 */
export class WatermarkTracker {
  private readonly parts = new Map<string, PartitionTime>();
  private value = -Infinity;
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: WatermarkOptions) {
    requireOption(opts.outOfOrderness >= 0, `outOfOrderness must be >= 0 ms, got ${opts.outOfOrderness}`);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 10_000;
    requireOption(this.idleTimeoutMs > 0, `idleTimeoutMs must be > 0, got ${opts.idleTimeoutMs}`);
    this.now = opts.now ?? (() => performance.now());
  }

  /** The watermark: no record with an earlier event time is expected any more. */
  get current(): number {
    return this.value;
  }

  /**
   * Declares a partition before its first record, so the watermark waits for it (or for its
   * idle timeout) instead of racing ahead on the partitions that happen to come first.
   */
  register(partition: string, at = this.now()): void {
    if (!this.parts.has(partition)) {
      this.parts.set(partition, { maxEventTime: -Infinity, lastSeenAt: at, idle: false });
      this.recompute();
    }
  }

  /** Raises the watermark to `t` (a source declared event time complete up to it); never lowers it. */
  advanceTo(t: number): void {
    if (t > this.value) this.value = t;
  }

  private lastTopic = '';
  private lastPartition = -1;
  /** The partition of the previous `observeRecord`: consecutive records mostly share one. */
  private lastPart: PartitionTime | undefined;

  /**
   * `observe` for a record's topic and partition, without building the partition's name or
   * looking it up when consecutive records share it (the common case: one per batch). Returns
   * the partition's newest event time: until a record of it is newer (or another partition's
   * comes, or `at` changes), observing the partition again changes nothing, so callers may skip it.
   */
  observeRecord(topic: string, partition: number, eventTime: number, at: number): number {
    let p = this.lastPart;
    if (p === undefined || topic !== this.lastTopic || partition !== this.lastPartition) {
      p = this.partition(`${topic}/${partition}`, at);
      this.lastTopic = topic;
      this.lastPartition = partition;
      this.lastPart = p;
    }
    this.note(p, eventTime, at);
    return p.maxEventTime;
  }

  /** Notes a record of `partition`; `at` is the processing time (default: the clock). */
  observe(partition: string, eventTime: number, at = this.now()): void {
    this.note(this.partition(partition, at), eventTime, at);
  }

  private partition(name: string, at: number): PartitionTime {
    let p = this.parts.get(name);
    if (!p) {
      p = { maxEventTime: -Infinity, lastSeenAt: at, idle: false };
      this.parts.set(name, p);
    }
    return p;
  }

  private note(p: PartitionTime, eventTime: number, at: number): void {
    p.lastSeenAt = at;
    const wasIdle = p.idle;
    p.idle = false;
    if (eventTime > p.maxEventTime) {
      p.maxEventTime = eventTime;
      this.recompute();
    } else if (wasIdle) this.recompute();
  }

  /** Marks partitions idle whose last record is older than the idle timeout; call once per batch. */
  refresh(at = this.now()): void {
    let changed = false;
    for (const p of this.parts.values()) {
      const idle = at - p.lastSeenAt >= this.idleTimeoutMs;
      if (idle !== p.idle) {
        p.idle = idle;
        changed = true;
      }
    }
    if (changed) this.recompute();
  }

  private recompute(): void {
    // One partition (the common case, about every other record): its newest time, idle or not.
    if (this.parts.size === 1 && this.lastPart !== undefined) {
      const next = this.lastPart.maxEventTime - this.opts.outOfOrderness;
      if (next > this.value) this.value = next;
      return;
    }
    let min = Infinity;
    let maxAll = -Infinity;
    for (const p of this.parts.values()) {
      if (p.maxEventTime > maxAll) maxAll = p.maxEventTime;
      if (!p.idle && p.maxEventTime < min) min = p.maxEventTime;
    }
    // All idle: the newest event time holds (nothing is waiting for a quiet partition).
    const base = min === Infinity ? maxAll : min;
    const next = base - this.opts.outOfOrderness;
    // Watermarks never go back, even when an idle partition wakes up behind.
    if (next > this.value) this.value = next;
  }

  toJSON(): { value: number | null; parts: [string, number][] } {
    return {
      value: Number.isFinite(this.value) ? this.value : null,
      parts: [...this.parts].map(([k, p]) => [k, p.maxEventTime]),
    };
  }

  restore(data: { value: number | null; parts: [string, number][] } | undefined): void {
    this.parts.clear();
    this.lastPart = undefined;
    this.value = data?.value ?? -Infinity;
    const at = this.now();
    for (const [k, t] of data?.parts ?? [])
      this.parts.set(k, { maxEventTime: t, lastSeenAt: at, idle: false });
  }
}
