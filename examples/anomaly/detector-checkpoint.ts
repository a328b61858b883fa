/**
 * Makes the anomaly demo resumable: a stateful stage placed right after `.infer()` that saves,
 * at each checkpoint barrier, the detector of every series that learned since the previous one,
 * with the rows of that series scored so far (= lines of its results file). The runtime commits
 * them in the same LMDB transaction as the source offsets, so a restart resumes the detectors,
 * the files and the sources at one consistent point.
 */
import type { Envelope } from '../../src/index.js';
import type { StateChange, StateReader, Stateful } from '../../src/stream/index.js';
import type { OnlineAnomalyModel } from './anomaly-model.js';

/** What is saved per series (keyed by its relative path). */
interface SavedSeries {
  rows: number;
  detector: Uint8Array;
}

export class DetectorCheckpoint implements Stateful {
  readonly name = 'detector-state';
  private ns = '';
  private track = false;
  /** Rows per series scored so far, restored ones included. */
  private readonly rows = new Map<number, number>();
  /** Rows per series the restored checkpoint covers: the results files keep that many lines. */
  private readonly restored = new Map<number, number>();
  private readonly dirty = new Set<number>();

  /** `keys[i]`: the state key of series i (its results path, stable across runs). */
  constructor(
    private readonly model: OnlineAnomalyModel,
    private readonly keys: readonly string[],
  ) {}

  attach(state: StateReader, ns: string, track: boolean): void {
    this.ns = ns;
    this.track = track;
    this.keys.forEach((key, series) => {
      const saved = state.get(ns, key) as SavedSeries | undefined;
      if (!saved) return;
      this.model.restoreScorer(series, saved.detector);
      this.rows.set(series, saved.rows);
      this.restored.set(series, saved.rows);
    });
  }

  /** Lines of series `series`' results file that the restored checkpoint covers (0 on a fresh start). */
  restoredRows(series: number): number {
    return this.restored.get(series) ?? 0;
  }

  /**
   * Counts the scored rows of a batch. Runs after the model call of the batch and before the
   * next one (stages take one batch at a time), so a snapshot taken at this batch's barrier
   * holds exactly what the rows up to the barrier's offsets taught the detectors.
   */
  count(records: Envelope<{ series: number }>[]): void {
    for (const r of records) {
      const s = r.value.series;
      this.rows.set(s, (this.rows.get(s) ?? 0) + 1);
      this.dirty.add(s);
    }
  }

  drainChanges(): StateChange[] {
    if (!this.track) return [];
    const changes: StateChange[] = [];
    for (const series of this.dirty) {
      const value: SavedSeries = {
        rows: this.rows.get(series)!,
        detector: this.model.snapshot(series),
      };
      changes.push({ ns: this.ns, key: this.keys[series]!, value });
    }
    this.dirty.clear();
    return changes;
  }
}
