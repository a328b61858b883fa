/**
 * The online anomaly detector behind the inference layer's `Model` interface, so a pipeline
 * scores it with `.infer()` and it composes with the batcher, resilience and metrics like any
 * ONNX model. It keeps one `SeriesAnomalyDetector` per series (or whatever per-series scorer the
 * `factory` argument makes, e.g. the ensemble or ARTime) and learns from every row it scores, in
 * the order the rows arrive.
 *
 * Input `features` float32 [N, 4]: series id, value, UTC day number (epoch ms / 86 400 000,
 * whole), millisecond of that day / 1000 (seconds, exact in float32). Output `score` float32
 * [N, 1] in [0, 1]. A call is not idempotent (it learns), so resilience never retries it.
 *
 * @example
 * const model = new OnlineAnomalyModel();
 * const out = await model.run({ features: float32Tensor(anomalyRow(0, Date.parse('2014-04-01'), 42.5), [1, 4]) });
 */
import { type Model, type ModelMetadata } from '../../index.js';
import { ModelClosedError, ModelInputError, float32Tensor, type Tensor } from '../../inference/index.js';
import { SeriesAnomalyDetector, type DetectorConfig } from './detector.js';

export const ANOMALY_INPUT_WIDTH = 4;

/** A per-series online scorer: scores a value at time t (epoch ms), then learns it. */
export interface SeriesScorer {
  update(t: number, x: number): number;
  /** What it has learned, as bytes, where it can be checkpointed. */
  snapshot?(): Uint8Array;
}

/** How the model makes a series' scorer, and restores one from its snapshot (none: no checkpoints). */
export interface ScorerFactory {
  create(series: number): SeriesScorer;
  restore?(bytes: Uint8Array): SeriesScorer;
}

const DAY = 86_400_000;

/** The model input row of one observation. */
export function anomalyRow(
  series: number,
  timeMs: number,
  value: number,
  out = new Float64Array(4),
): Float64Array {
  const day = Math.floor(timeMs / DAY);
  out[0] = series;
  out[1] = value;
  out[2] = day;
  out[3] = (timeMs - day * DAY) / 1000;
  return out;
}

export class OnlineAnomalyModel implements Model {
  readonly metadata: ModelMetadata = {
    name: 'online_anomaly',
    version: '1',
    inputs: [{ name: 'features', type: 'float32', dims: ['N', ANOMALY_INPUT_WIDTH] }],
    outputs: [{ name: 'score', type: 'float32', dims: ['N', 1] }],
  };
  readonly idempotent = false;
  private readonly detectors = new Map<number, SeriesScorer>();
  private closed = false;

  /**
   * @param factory the scorer of each series and how to restore it from a snapshot (default: this
   *   project's detector with `config`); the demo's others are the ensemble and the ARTimes
   */
  constructor(
    config: Partial<DetectorConfig> = {},
    private readonly factory: ScorerFactory = {
      create: () => new SeriesAnomalyDetector(config),
      restore: (bytes) => SeriesAnomalyDetector.restore(bytes, config),
    },
  ) {}

  /** The scorer of one series (created on its first row). */
  scorer(series: number): SeriesScorer {
    let d = this.detectors.get(series);
    if (!d) this.detectors.set(series, (d = this.factory.create(series)));
    return d;
  }

  /** The state of one series' scorer, for a checkpoint. */
  snapshot(series: number): Uint8Array {
    const d = this.scorer(series);
    if (!d.snapshot || !this.factory.restore)
      throw new Error('online_anomaly: this model cannot be checkpointed (its scorers have no snapshots)');
    return d.snapshot();
  }

  /** Replaces the scorer of one series with one restored from its `snapshot()`. */
  restoreScorer(series: number, snapshot: Uint8Array): void {
    if (!this.factory.restore) throw new Error('online_anomaly: this model cannot restore checkpoints');
    this.detectors.set(series, this.factory.restore(snapshot));
  }

  get series(): number {
    return this.detectors.size;
  }

  async run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.closed) throw new ModelClosedError('online_anomaly: the model is closed; create a new one');
    const x = inputs.features;
    if (!x || x.dims.length !== 2 || x.dims[1] !== ANOMALY_INPUT_WIDTH || typeof x.data[0] === 'string')
      throw new ModelInputError(
        'SLUICE_INFERENCE_INPUT_DIMS',
        'features',
        `online_anomaly: input "features" expects dims [N,${ANOMALY_INPUT_WIDTH}] (series, value, day, second of day), got ${x ? `[${x.dims.join(',')}]` : 'none'}`,
      );
    const data = x.data as ArrayLike<number>;
    const n = x.dims[0]!;
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * ANOMALY_INPUT_WIDTH;
      const t = data[o + 2]! * DAY + Math.round(data[o + 3]! * 1000);
      scores[i] = this.scorer(data[o]!).update(t, data[o + 1]!);
    }
    return { score: float32Tensor(scores, [n, 1]) };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.detectors.clear();
  }
}
