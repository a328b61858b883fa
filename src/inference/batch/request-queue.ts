import type { Tensor } from '../tensor.js';

/**
 * Where a request is in its life.
 *
 * @example
 * if (req.state === RequestState.queued) queue.forget(req);
 */
export const RequestState = { queued: 0, dispatched: 1, settled: 2 } as const;

/**
 * One of {@link RequestState}'s values.
 *
 * @example
 * let state: RequestStateValue = RequestState.queued;
 */
export type RequestStateValue = (typeof RequestState)[keyof typeof RequestState];

/**
 * One caller's request waiting in (or taken from) a batcher queue.
 *
 * @example
 * // built by DynamicBatcher.run(); never by callers
 */
export interface PendingRequest {
  inputs: Record<string, Tensor>;
  rows: number;
  level: number;
  /** performance.now() at enqueue, ms. */
  enqueuedAt: number;
  /** performance.now() after which the request times out in the queue; Infinity when never. */
  expiresAt: number;
  state: RequestStateValue;
  resolve: (out: Record<string, Tensor>) => void;
  reject: (err: unknown) => void;
  /** The outputs the caller reads (`ModelRunOptions.outputs`); all when undefined. */
  outputs?: readonly string[] | undefined;
  /** Ordering key, when given. */
  key?: string | number;
  /** The previous unsettled request with the same key: this one settles after it. */
  prev?: PendingRequest;
  next?: PendingRequest;
  /** A settlement held back until `prev` settles. */
  held?: () => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const noop = (): void => {};

/**
 * A queued request and the promise its caller awaits.
 *
 * @example
 * const { req, promise } = newRequest(inputs, 1, 0, performance.now(), 0);
 */
export function newRequest(
  inputs: Record<string, Tensor>,
  rows: number,
  level: number,
  now: number,
  timeoutMs: number,
): { req: PendingRequest; promise: Promise<Record<string, Tensor>> } {
  const req: PendingRequest = {
    inputs,
    rows,
    level,
    enqueuedAt: now,
    expiresAt: timeoutMs > 0 ? now + timeoutMs : Infinity,
    state: RequestState.queued,
    outputs: undefined,
    resolve: noop,
    reject: noop,
  };
  const promise = new Promise<Record<string, Tensor>>((resolve, reject) => {
    req.resolve = resolve;
    req.reject = reject;
  });
  return { req, promise };
}

/**
 * FIFO of one priority level. Requests leaving out of order (timeout, abort) are only marked
 * settled and skipped later, so removal is O(1); counts cover live requests only.
 *
 * @example
 * const q = new LevelQueue(); q.push(req); q.peek() === req; // true
 */
export class LevelQueue {
  // consumed slots are cleared at once: a request holds its input tensors, which must not
  // outlive the batch (retained tensors get promoted and make GC several times costlier)
  private items: (PendingRequest | undefined)[] = [];
  private head = 0;
  /** Live (queued) requests. */
  size = 0;
  /** Rows of the live requests. */
  rows = 0;

  push(r: PendingRequest): void {
    this.items.push(r);
    this.size++;
    this.rows += r.rows;
  }

  /** The oldest live request, or undefined. */
  peek(): PendingRequest | undefined {
    const items = this.items;
    while (this.head < items.length && items[this.head]!.state !== RequestState.queued)
      items[this.head++] = undefined;
    if (this.head === items.length) {
      if (this.head > 0) this.reset();
      return undefined;
    }
    return items[this.head];
  }

  /** Removes and returns the oldest live request. */
  shift(): PendingRequest | undefined {
    const r = this.peek();
    if (r === undefined) return undefined;
    this.items[this.head++] = undefined;
    this.size--;
    this.rows -= r.rows;
    if (this.head === this.items.length) this.reset();
    // drop the consumed prefix now and then, so the array does not grow without bound
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  private reset(): void {
    this.items = [];
    this.head = 0;
  }

  /** Accounts for a request leaving out of order; the caller marks it settled. */
  forget(r: PendingRequest): void {
    this.size--;
    this.rows -= r.rows;
  }

  /** Live requests, oldest first (for timeout scans). */
  *live(): Generator<PendingRequest> {
    for (let i = this.head; i < this.items.length; i++) {
      const r = this.items[i]!;
      if (r.state === RequestState.queued) yield r;
    }
  }
}

/**
 * The queues of all priority levels (index 0 = highest), with totals over live requests.
 * Batches take requests in priority order, FIFO within a level, never splitting one.
 *
 * @example
 * const qs = new PriorityQueues(2); qs.push(req); const batch = qs.take(64);
 */
export class PriorityQueues {
  readonly levels: LevelQueue[];
  /** Live requests and their rows, over all levels. */
  size = 0;
  rows = 0;

  constructor(levels: number) {
    this.levels = Array.from({ length: levels }, () => new LevelQueue());
  }

  push(r: PendingRequest): void {
    this.levels[r.level]!.push(r);
    this.size++;
    this.rows += r.rows;
  }

  /** A request leaving before dispatch (timeout, abort); the caller settles it. */
  forget(r: PendingRequest): void {
    this.levels[r.level]!.forget(r);
    this.size--;
    this.rows -= r.rows;
  }

  /** The next request a batch would take. */
  head(): PendingRequest | undefined {
    for (const q of this.levels) {
      const r = q.peek();
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Enqueue time of the oldest live request (each level's head is its oldest). */
  oldest(): number {
    let oldest = Infinity;
    for (const q of this.levels) {
      const r = q.peek();
      if (r !== undefined && r.enqueuedAt < oldest) oldest = r.enqueuedAt;
    }
    return oldest;
  }

  /** Rows the next batch would hold with this limit. */
  prefixRows(limit: number): number {
    let rows = 0;
    for (const q of this.levels) {
      for (const r of q.live()) {
        if (rows + r.rows > limit) return rows;
        rows += r.rows;
      }
    }
    return rows;
  }

  /** Takes the next batch: requests up to `limit` rows (at least one), marked dispatched. */
  take(limit: number): { batch: PendingRequest[]; rows: number; oldest: number } {
    const batch: PendingRequest[] = [];
    let rows = 0;
    let oldest = Infinity;
    outer: for (const q of this.levels) {
      for (let r = q.peek(); r !== undefined; r = q.peek()) {
        if (rows > 0 && rows + r.rows > limit) break outer;
        q.shift();
        r.state = RequestState.dispatched;
        batch.push(r);
        rows += r.rows;
        if (r.enqueuedAt < oldest) oldest = r.enqueuedAt;
        if (rows >= limit) break outer;
      }
    }
    this.size -= batch.length;
    this.rows -= rows;
    return { batch, rows, oldest };
  }

  /** Removes requests whose queue timeout passed, handing each to `onExpired`; returns the next expiry. */
  expire(now: number, onExpired: (r: PendingRequest) => void): number {
    let next = Infinity;
    for (const q of this.levels) {
      for (const r of q.live()) {
        if (r.expiresAt > now) {
          if (r.expiresAt < next) next = r.expiresAt;
          continue;
        }
        this.forget(r);
        onExpired(r);
      }
    }
    return next;
  }
}
