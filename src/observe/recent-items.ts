/**
 * The last `capacity` items pushed (e.g. the latest fraud alerts for the dashboard): a fixed
 * ring, so memory stays bounded however many actions a pipeline takes.
 *
 * @example
 * const last = new RecentItems<string>(2);
 * last.push('a'); last.push('b'); last.push('c');
 * last.latest(); // ['c', 'b']
 */
export class RecentItems<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  /** Items pushed in total. */
  pushed = 0;

  constructor(readonly capacity = 50) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`RecentItems: capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.pushed++;
  }

  /** Up to `n` items, newest first. */
  latest(n = this.capacity): T[] {
    const out: T[] = [];
    const have = Math.min(this.pushed, this.capacity, n);
    for (let i = 1; i <= have; i++) out.push(this.items[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}
