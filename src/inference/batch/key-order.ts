import type { PendingRequest } from './request-queue.js';

/**
 * Delivers results of requests sharing a key in the order the requests were made, even when
 * their batches finish out of order (several batches in flight, a queue-timeout fallback).
 * Requests form a chain per key; a result waits only for its predecessor's delivery.
 *
 * @example
 * order.link(req, 'card-42'); ... order.deliver(req, () => req.resolve(out));
 */
export class KeyOrder {
  readonly #last = new Map<string | number, PendingRequest>();

  /** Appends a request to its key's chain. */
  link(r: PendingRequest, key: string | number): void {
    r.key = key;
    const last = this.#last.get(key);
    if (last !== undefined) {
      r.prev = last;
      last.next = r;
    }
    this.#last.set(key, r);
  }

  /** Runs `deliver` now, or once the key's previous request has been delivered. */
  deliver(r: PendingRequest, deliver: () => void): void {
    const run = (): void => {
      deliver();
      const next = r.next;
      if (next === undefined) {
        if (this.#last.get(r.key!) === r) this.#last.delete(r.key!);
        return;
      }
      next.prev = undefined;
      const held = next.held;
      next.held = undefined;
      held?.();
    };
    if (r.prev !== undefined) r.held = run;
    else run();
  }
}
