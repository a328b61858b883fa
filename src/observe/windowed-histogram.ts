import { LatencyHistogram, type LatencySummary } from './histogram.js';

/**
 * A latency histogram with a "recent" window for live progress and a running total for the
 * final summary. Values go into the recent window only; `rollover()` folds it into the total,
 * so the hot path pays for one record, not two.
 */
export class WindowedHistogram {
  private readonly recent = new LatencyHistogram();
  private readonly total = new LatencyHistogram();

  record(ms: number): void {
    this.recent.record(ms);
  }

  recordMany(ms: number, count: number): void {
    this.recent.recordMany(ms, count);
  }

  /** Ends the current window: returns its summary and adds it to the total. */
  rollover(): LatencySummary {
    const s = this.recent.summary();
    this.total.add(this.recent);
    this.recent.reset();
    return s;
  }

  /** Summary over everything recorded so far (including the open window). */
  summary(): LatencySummary {
    this.total.add(this.recent);
    this.recent.reset();
    return this.total.summary();
  }
}
