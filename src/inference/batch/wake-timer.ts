/**
 * Calls a function at a given `performance.now()` time, precisely even below 1 ms: a timer
 * to about 1 ms before (timers are ms-coarse and fire late, never early enough), then
 * `setImmediate` turns of the event loop until the time has come (the caller re-checks).
 * Only the earliest pending wake-up is kept.
 *
 * @example
 * const wake = new WakeTimer(() => pump()); wake.at(performance.now() + 0.5);
 */
export class WakeTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #at = Infinity;
  readonly #fire: () => void;

  constructor(fn: () => void) {
    this.#fire = () => {
      this.#timer = undefined;
      this.#immediate = undefined;
      this.#at = Infinity;
      fn();
    };
  }

  /** Wakes at `at` (ms), unless an earlier wake-up is already set. */
  at(at: number): void {
    if (at >= this.#at) return;
    this.clear();
    this.#at = at;
    const ms = at - performance.now();
    if (ms > 1.5) this.#timer = setTimeout(this.#fire, Math.floor(ms - 1));
    else this.#immediate = setImmediate(this.#fire);
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#at = Infinity;
  }
}
