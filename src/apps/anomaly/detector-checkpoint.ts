/**
 * Makes the anomaly demo resumable: a keyed processor (`.keyBy(series).process(...)`, the public
 * way to write a custom stateful stage) placed right after `.infer()` that keeps, per series,
 * the rows scored so far (= lines of its results file) and, at each checkpoint barrier, a
 * snapshot of the detector of every series that learned since the previous one. The runtime
 * commits that state in the same LMDB transaction as the source offsets, so a restart resumes
 * the detectors, the files and the sources at one consistent point.
 */
import { valueState, type KeyedProcessor, type RecordKey } from '../../index.js';
import type { OnlineAnomalyModel } from './anomaly-model.js';
import type { ScoredPoint } from './results-writer.js';

const STATE = { rows: valueState<number>(), detector: valueState<Uint8Array>() };

export class DetectorCheckpoint {
  /** Rows per series the restored checkpoint covers: the results files keep that many lines. */
  private readonly restored = new Map<number, number>();
  /** Series scored since the last barrier: their detectors changed. */
  private readonly learned = new Set<number>();
  private readonly seriesOf: Map<RecordKey, number>;

  /** `keys[i]`: the state key of series i (its results path, stable across runs). */
  constructor(
    private readonly model: OnlineAnomalyModel,
    readonly keys: readonly string[],
  ) {
    this.seriesOf = new Map(keys.map((k, i) => [k, i]));
  }

  /** Lines of series `series`' results file that the restored checkpoint covers (0 on a fresh start). */
  restoredRows(series: number): number {
    return this.restored.get(series) ?? 0;
  }

  /** The stage: `stream.keyBy((p) => checkpoint.keys[p.series]!).process(checkpoint.processor())`. */
  processor(): KeyedProcessor<ScoredPoint, ScoredPoint, typeof STATE> {
    return {
      name: 'detector-state',
      state: STATE,
      // The detectors live in the model, upstream of this stage: they are restored before the
      // first row is scored, and snapshotted once per barrier rather than per row.
      onStart: (state) => {
        for (const key of state.keys()) {
          const series = this.seriesOf.get(key);
          const saved = state.of(key);
          if (series === undefined) continue; // a series no longer in the corpus
          this.model.restoreScorer(series, saved.detector.get()!);
          this.restored.set(series, saved.rows.get() ?? 0);
        }
      },
      // Runs after the model call of the row's batch and before the next one (stages take one
      // batch at a time), so a snapshot at a barrier holds exactly what the rows up to the
      // barrier's offsets taught the detectors.
      onRecord: (p, ctx) => {
        ctx.state.rows.set((ctx.state.rows.get() ?? 0) + 1);
        this.learned.add(p.series);
        return [p];
      },
      beforeCheckpoint: (state) => {
        for (const series of this.learned)
          state.of(this.keys[series]!).detector.set(this.model.snapshot(series));
        this.learned.clear();
      },
    };
  }
}
