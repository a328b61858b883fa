import type { ProgressSnapshot } from '../observe/index.js';

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** One progress line: events/s, totals, lag and end-to-end latency of the last interval. */
export function progressLine(p: ProgressSnapshot, total?: number): string {
  const done = p.counters.processed + p.counters.deadLetters;
  const of = total ? `/${fmt.format(total)}` : '';
  const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
  return (
    `[${(p.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${fmt.format(p.eps).padStart(8)} ev/s  ` +
    `processed ${fmt.format(done)}${of}  lag ${fmt.format(p.lag)}  ` +
    `e2e p50 ${ms(p.e2e.p50)} ms p99 ${ms(p.e2e.p99)} ms  actions ${fmt.format(p.counters.actions)}  dead ${fmt.format(p.counters.deadLetters)}`
  );
}
