/**
 * A FIFO with a fixed capacity between two pipeline stages: `put` waits while it is full,
 * which is how a slow stage pauses everything upstream of it (backpressure).
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[] = [];
  private head = 0;
  private takers: ((item: T) => void)[] = [];
  private putters: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  async put(item: T): Promise<void> {
    while (this.size >= this.capacity) await new Promise<void>((resolve) => this.putters.push(resolve));
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
  }

  async take(): Promise<T> {
    if (this.size > 0) {
      const item = this.items[this.head]!;
      // Drop the queue's reference now: slots are only spliced away in bulk, and a taken batch
      // kept here survives every young-generation collection until then.
      this.items[this.head++] = undefined;
      if (this.head > 64 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.putters.shift()?.();
      return item;
    }
    return new Promise<T>((resolve) => this.takers.push(resolve));
  }
}
