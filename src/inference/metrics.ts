/**
 * Anything with a `stats()` snapshot: batchers, resilient and swappable models.
 *
 * @example
 * const source: StatsSource = batcher;
 */
export interface StatsSource {
  stats(): object;
}

/**
 * A small registry of the inference layer's counters and gauges (circuit state, retries,
 * timeouts, fallbacks, queue depth...): components register under a name and one
 * `snapshot()` reads them all. `flat()` gives numbers only, ready for a metrics exporter.
 *
 * @example
 * const metrics = new InferenceMetrics();
 * const model = withResilience(remote, { timeoutMs: 50, metrics });
 * metrics.flat()['resilience.fraud-kserve.retries']; // 0
 */
export class InferenceMetrics {
  readonly #sources = new Map<string, StatsSource>();

  /**
   * Adds a component under `name` (`kind.name`, e.g. `batcher.fraud`); a later one with the
   * same name replaces it.
   *
   * @example
   * metrics.register('batcher.fraud', batcher);
   */
  register(name: string, source: StatsSource): void {
    this.#sources.set(name, source);
  }

  /**
   * Removes a component.
   *
   * @example
   * metrics.unregister('batcher.fraud');
   */
  unregister(name: string): void {
    this.#sources.delete(name);
  }

  /**
   * Every registered component's `stats()`, by name.
   *
   * @example
   * console.log(JSON.stringify(metrics.snapshot()));
   */
  snapshot(): Record<string, object> {
    const out: Record<string, object> = {};
    for (const [name, source] of this.#sources) out[name] = source.stats();
    return out;
  }

  /**
   * Numeric leaves of the snapshot as dotted names; a circuit state becomes 0 closed,
   * 1 open, 2 half-open, 3 isolated (`...circuit`), other strings are left out.
   *
   * @example
   * metrics.flat(); // { 'resilience.kserve.circuit': 1, 'resilience.kserve.retries': 4, ... }
   */
  flat(): Record<string, number> {
    const out: Record<string, number> = {};
    const walk = (prefix: string, value: unknown): void => {
      if (typeof value === 'number') out[prefix] = value;
      else if (typeof value === 'boolean') out[prefix] = value ? 1 : 0;
      else if (typeof value === 'string' && value in CIRCUIT_CODES) out[prefix] = CIRCUIT_CODES[value]!;
      else if (value !== null && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(`${prefix}.${k}`, v);
    };
    for (const [name, stats] of Object.entries(this.snapshot())) walk(name, stats);
    return out;
  }
}

const CIRCUIT_CODES: Record<string, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3 };
