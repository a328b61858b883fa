/**
 * Window timers: the keys to check at each window end. Keys are grouped per end time and the
 * distinct end times kept in a binary min-heap of numbers, so a million windows sharing a few
 * thousand ends cost a few thousand heap entries, not a million.
 */
export class TimerHeap<K> {
  private readonly ends: number[] = [];
  private readonly keys = new Map<number, K[]>();
  /** The list of the last end pushed: windows opened together mostly share their end. */
  private lastEnd = NaN;
  private lastList: K[] = [];

  get size(): number {
    return this.ends.length;
  }

  peekEnd(): number {
    return this.ends.length > 0 ? this.ends[0]! : Infinity;
  }

  push(end: number, key: K): void {
    if (end !== this.lastEnd) {
      let list = this.keys.get(end);
      if (!list) {
        this.keys.set(end, (list = []));
        this.siftUp(end);
      }
      this.lastEnd = end;
      this.lastList = list;
    }
    this.lastList.push(key);
  }

  private siftUp(end: number): void {
    const h = this.ends;
    h.push(end);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= end) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = end;
  }

  /** Removes the earliest end time and returns it with its keys (maybe with repeats). */
  pop(): [number, K[]] | undefined {
    const h = this.ends;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]! < h[l]! ? r : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    const keys = this.keys.get(top)!;
    this.keys.delete(top);
    if (top === this.lastEnd) this.lastEnd = NaN;
    return [top, keys];
  }

  clear(): void {
    this.ends.length = 0;
    this.keys.clear();
    this.lastEnd = NaN;
  }
}
