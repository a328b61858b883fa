// Wakes long-polling fetches when records are appended to a partition they wait on.

/**
 * Subscriptions per "topic/partition".
 *
 * @example
 * const stop = notifier.wait(['orders/0'], () => retryFetch());
 * notifier.appended('orders', 0); // calls retryFetch
 * stop();
 */
export class AppendNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Calls `wake` on every append to one of `keys` (from {@link partitionKey}) until the returned function is called. */
  wait(keys: readonly string[], wake: () => void): () => void {
    for (const k of keys) {
      let set = this.waiters.get(k);
      if (set === undefined) this.waiters.set(k, (set = new Set()));
      set.add(wake);
    }
    return () => {
      for (const k of keys) {
        const set = this.waiters.get(k);
        set?.delete(wake);
        if (set?.size === 0) this.waiters.delete(k);
      }
    };
  }

  appended(topic: string, partition: number): void {
    const set = this.waiters.get(partitionKey(topic, partition));
    if (set === undefined) return;
    for (const wake of [...set]) wake();
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
