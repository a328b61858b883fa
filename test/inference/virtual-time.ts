// A virtual clock for latency tests on a loaded machine: while installed, `performance.now()`,
// `setTimeout` and `setImmediate` run on simulated time, so a simulated model's latency is exact
// and the machine's own scheduling noise does not decide the result.

interface Event {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

const realSetImmediate = globalThis.setImmediate;
const LOOP_TURN_MS = 0.01;
/** Where the last virtual clock stopped: simulated time runs ahead of the real one. */
let lastNow = 0;

/**
 * Simulated time. `install()` swaps the globals, `runUntil(t)` fires every event due by `t`
 * in time order (flushing promise callbacks after each), `uninstall()` puts the globals back.
 */
export class VirtualTime {
  now = 0;
  #events: Event[] = [];
  #seq = 0;
  #saved:
    | [typeof setTimeout, typeof clearTimeout, typeof setImmediate, typeof clearImmediate, () => number]
    | undefined;

  /** Schedules `fn` at simulated time `at` (ms). */
  at(at: number, fn: () => void): Event {
    const e: Event = { at: Math.max(at, this.now), seq: this.#seq++, fn, cancelled: false };
    // insert in order (events are mostly appended near the end)
    let i = this.#events.length;
    while (
      i > 0 &&
      (this.#events[i - 1]!.at > e.at ||
        (this.#events[i - 1]!.at === e.at && this.#events[i - 1]!.seq > e.seq))
    )
      i--;
    this.#events.splice(i, 0, e);
    return e;
  }

  install(): void {
    const g = globalThis as Record<string, unknown>;
    this.#saved = [setTimeout, clearTimeout, setImmediate, clearImmediate, performance.now.bind(performance)];
    // as Node's: a timer waits at least 1 ms
    g.setTimeout = (fn: () => void, ms = 0) => this.at(this.now + Math.max(1, ms), fn);
    // a turn of the event loop takes time too (else a wait for a time by setImmediate spins)
    g.setImmediate = (fn: () => void) => this.at(this.now + LOOP_TURN_MS, fn);
    g.clearTimeout = g.clearImmediate = (e: Event | undefined) => {
      if (e !== undefined) e.cancelled = true;
    };
    // time goes on from the real clock's reading: objects made before must never see it go back
    this.now = Math.max(this.now, lastNow, this.#saved[4]());
    performance.now = () => this.now;
  }

  /**
   * Puts the real globals back. Events still pending (the test runner's own timers set
   * meanwhile, a batcher's wake-up) are handed to the real event loop, so nothing waits forever.
   */
  uninstall(): void {
    const s = this.#saved!;
    const g = globalThis as Record<string, unknown>;
    [g.setTimeout, g.clearTimeout, g.setImmediate, g.clearImmediate] = s;
    performance.now = s[4];
    lastNow = this.now;
    for (const e of this.#events.splice(0)) if (!e.cancelled) realSetImmediate(e.fn);
  }

  /** Fires the events due by `until` (ms), each followed by its promise callbacks. */
  async runUntil(until: number): Promise<void> {
    while (this.#events.length > 0 && this.#events[0]!.at <= until) {
      const e = this.#events.shift()!;
      if (e.cancelled) continue;
      this.now = e.at;
      e.fn();
      await new Promise((r) => realSetImmediate(r));
    }
    this.now = Math.max(this.now, until);
  }
}
