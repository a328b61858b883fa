/**
 * The anomaly demo's default detector (`--detector ensemble`): this project's detector
 * (`detector.ts`) and ARTime at several scales (`artime-online.ts`) side by side on every row, the
 * score being the larger of ARTime's and half of ours. Neither is told anything up front: the
 * score of row t depends only on rows 1..t.
 *
 * Why a max with ours halved: the two miss different windows (ARTime reacts to changes of shape
 * at its sample scale, ours to values rare against the series' own history), and their scores
 * are not on one scale: ours reaches its alert level (0.8) only on very rare values, ARTime's
 * confidence spreads over [0, 1]. Halved, only ours' strongest detections come above the
 * thresholds where ARTime's own stand. On NAB's 58 series: 70.52 / 60.12 / 76.32 (standard /
 * reward_low_FP_rate / reward_low_FN_rate) against 66.75 for ARTime at several scales alone and
 * 59.96 for ours alone; on the 13 series of ../shared/data/nab 71.82 / 61.81 / 78.55. The weight
 * was chosen among the combinations listed, with their cross-validation, in
 * research/nab/README.md ("Without NAB's look-ahead").
 *
 * @example
 * const d = new EnsembleDetector();
 * for (const [t, x] of rows) console.log(d.update(t, x));
 */
import { decodeState, encodeState } from './state-codec.js';
import { MultiScaleARTime, type MultiScaleConfig } from './artime-online.js';
import { SeriesAnomalyDetector, type DetectorConfig } from './detector.js';

export interface EnsembleConfig {
  /** What this project's detector's score is multiplied by before the max. */
  oursWeight: number;
  /** Settings of this project's detector. */
  ours: Partial<DetectorConfig>;
  /** Settings of ARTime at several scales. */
  artime: Partial<MultiScaleConfig>;
}

export const ENSEMBLE_DEFAULTS: Readonly<EnsembleConfig> = Object.freeze({
  oursWeight: 0.5,
  ours: {},
  artime: {},
});

export class EnsembleDetector {
  readonly config: Readonly<EnsembleConfig>;
  private ours: SeriesAnomalyDetector;
  private artime: MultiScaleARTime;

  constructor(config: Partial<EnsembleConfig> = {}) {
    this.config = Object.freeze({ ...ENSEMBLE_DEFAULTS, ...config });
    this.ours = new SeriesAnomalyDetector(this.config.ours);
    this.artime = new MultiScaleARTime(this.config.artime);
  }

  /** Rows learned so far. */
  get rows(): number {
    return this.artime.rows;
  }

  /** The larger of ARTime's score and ours × `oursWeight`; both learn the row. */
  update(t: number, x: number): number {
    const a = this.artime.update(t, x);
    const s = this.ours.update(t, x);
    const w = this.config.oursWeight * s;
    return w > a ? w : a;
  }

  /** Both detectors' state, as bytes (`EnsembleDetector.restore` with the same config resumes it exactly). */
  snapshot(): Uint8Array {
    return encodeState({ ours: this.ours.snapshot(), artime: this.artime.snapshot() });
  }

  /** A detector in the state `snapshot()` saved; `config` must be the one it was saved with. */
  static restore(bytes: Uint8Array, config: Partial<EnsembleConfig> = {}): EnsembleDetector {
    const s = decodeState(bytes) as { ours: Uint8Array; artime: Uint8Array };
    const d = new EnsembleDetector(config);
    d.ours = SeriesAnomalyDetector.restore(s.ours, d.config.ours);
    d.artime = MultiScaleARTime.restore(s.artime);
    return d;
  }
}
