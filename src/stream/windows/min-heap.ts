/** A binary min-heap of window timers ordered by (end, key): deterministic pop order. */
export class TimerHeap<K extends string | number> {
  private readonly items: [number, string, K][] = [];

  get size(): number {
    return this.items.length;
  }

  peekEnd(): number {
    return this.items.length > 0 ? this.items[0]![0] : Infinity;
  }

  push(end: number, key: K): void {
    const items = this.items;
    items.push([end, String(key), key]);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): [number, K] | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const lastItem = items.pop()!;
    if (items.length > 0) {
      items[0] = lastItem;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(l, m)) m = l;
        if (r < items.length && this.less(r, m)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return [top[0], top[2]];
  }

  clear(): void {
    this.items.length = 0;
  }

  private less(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
  }
}
