import { wallClockMs } from '../../observe/index.js';
import type { DeadLetter, Envelope, RecordKey } from '../envelope.js';
import { derivedId, envelope, recordId } from '../envelope.js';
import { requireOption } from '../errors.js';
import type { Stateful } from '../interfaces.js';
import { KeyedStateCache } from '../state/keyed-cache.js';
import type { StateChange, StateReader } from '../state/store.js';
import type { Batch } from '../steps.js';
import { WatermarkTracker } from '../time/watermarks.js';
import { TimerHeap } from '../windows/min-heap.js';

export interface IntervalJoinOptions<T, U> {
  /** Which records are the left side (e.g. by topic: `(v, env) => env.topic === 'clicks'`). */
  isLeft: (value: T, env: Envelope<T>) => boolean;
  /** Pairs whose event times differ by at most this many ms are joined. */
  within: number;
  /** Out-of-orderness of the inputs (see windows); older records are late. Default 0. */
  outOfOrderness?: number;
  idleTimeoutMs?: number;
  as: (left: T, right: T) => U;
  name?: string;
}

/** [event time, value, record id] */
type Entry = [number, unknown, string];
/** Per key: left and right records still able to find a partner. */
type Buffers = [Entry[], Entry[]];

/**
 * A stream-stream join within a time bound, per key: each left record pairs with every right
 * record of the same key whose event time is within `within` ms, whichever arrives first.
 * Buffers are state (checkpointed) and are pruned as the watermark passes; a record behind the
 * watermark goes to the late output.
 */
export class IntervalJoinOperator<T, U> implements Stateful {
  private readonly cache = new KeyedStateCache<Buffers>({
    encode: (b) => structuredClone(b),
    decode: (s) => s as Buffers,
  });
  private readonly timers = new TimerHeap<RecordKey>();
  private readonly wm: WatermarkTracker;
  private ns = '';

  constructor(
    readonly name: string,
    private readonly opts: IntervalJoinOptions<T, U>,
  ) {
    requireOption(opts.within >= 0, `${name}: within must be >= 0 ms`);
    this.wm = new WatermarkTracker({
      outOfOrderness: opts.outOfOrderness ?? 0,
      idleTimeoutMs: opts.idleTimeoutMs,
    });
  }

  process(batch: Batch): void {
    this.wm.refresh();
    const out: Envelope[] = [];
    const within = this.opts.within;
    for (const env of batch.records as Envelope<T>[]) {
      const t = env.eventTime;
      if (t < this.wm.current) {
        (batch.late ??= []).push(late(env, this.name, this.wm.current));
        continue;
      }
      this.wm.observe(`${env.topic}/${env.partition}`, t);
      const key = env.key ?? '';
      const bufs = this.cache.get(key) ?? [[], []];
      const left = this.opts.isLeft(env.value, env);
      const id = recordId(env);
      for (const [t2, v2, id2] of bufs[left ? 1 : 0]) {
        if (Math.abs(t2 - t) > within) continue;
        const value = left ? this.opts.as(env.value, v2 as T) : this.opts.as(v2 as T, env.value);
        const now = wallClockMs();
        const o = envelope<unknown>(value, this.ns, 0, 0, env.appendTime, now);
        o.key = key;
        o.eventTime = Math.max(t, t2);
        o.id = derivedId(this.ns, key, `${left ? id : id2}|${left ? id2 : id}`);
        out.push(o);
      }
      bufs[left ? 0 : 1].push([t, env.value, id]);
      this.cache.set(key, bufs);
      this.timers.push(t + within, key);
    }
    if (batch.watermark !== undefined) this.wm.advanceTo(batch.watermark);
    this.prune(this.wm.current);
    batch.records = out;
  }

  /** Drops entries no future (on-time) record can pair with: t + within < watermark. */
  private prune(wm: number): void {
    const keep = (e: Entry) => e[0] + this.opts.within >= wm;
    while (this.timers.size > 0 && this.timers.peekEnd() < wm) {
      const [, keys] = this.timers.pop()!;
      for (const key of keys) {
        const bufs = this.cache.get(key);
        if (!bufs) continue;
        const next: Buffers = [bufs[0].filter(keep), bufs[1].filter(keep)];
        if (next[0].length + next[1].length === 0) this.cache.delete(key);
        else if (next[0].length + next[1].length < bufs[0].length + bufs[1].length) this.cache.set(key, next);
      }
    }
  }

  attach(state: StateReader, ns: string, track: boolean): void {
    this.ns = ns;
    this.cache.attach(state, ns, track);
    this.wm.restore(this.cache.readMeta());
    this.timers.clear();
    for (const key of this.cache.allKeys())
      for (const side of this.cache.get(key) ?? [[], []])
        for (const e of side) this.timers.push(e[0] + this.opts.within, key);
  }

  inputs(partitions: string[]): void {
    for (const p of partitions) this.wm.register(p);
  }

  drainChanges(barrierId: number): StateChange[] {
    return this.cache.drainChanges(barrierId, [this.cache.metaChange(this.wm.toJSON())]);
  }

  committed(barrierId: number): void {
    this.cache.committed(barrierId);
  }
}

function late(env: Envelope, stage: string, watermark: number): DeadLetter {
  return {
    stage,
    reason: `late: event time ${env.eventTime} is behind the join's watermark ${watermark}`,
    original: env.value,
    topic: env.topic,
    partition: env.partition,
    offset: env.offset,
    time: Date.now(),
  };
}
