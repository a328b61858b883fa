/**
 * ARTime (`artime.ts`) without any look-ahead, at several time scales (`--detector
 * artime-online`): nothing about a series is told up front, the score of row t depends only on
 * rows 1..t, so it also runs on live sources (`--from`).
 *
 * NAB's ARTime takes its probation, and with it its time scale (one sample every probation / 104
 * rows), from the file's length: 15 % of the rows, at most 750. A detector that cannot know the
 * length has to pick a scale; any one fixed scale loses (on NAB's 58 series 55.8–60.5 standard
 * against 66.9 with the length's probation, both with a learned range): short files want a short
 * probation to score their early windows, long ones a coarse scale. So several ARTime instances,
 * with probations of 150, 300, 450, 600 and 750 rows, run side by side, and row t takes the score
 * of the one with the longest probation P such that P ≤ t / 2 (an instance speaks once it has seen
 * its probation twice over), the shortest before that. The scale grows with the rows seen, which
 * is what the length did, without knowing it. The speaking instance never moves back, so the
 * shorter ones are dropped at each hand-over.
 *
 * The value range is learned (`remap`, `margin` 0.5: the rows' range widened by half of it on
 * each side, re-expressed when a row leaves it), instead of the file's min/max.
 *
 * On NAB's 58 series: 66.75 / 59.70 / 71.93 (standard / reward_low_FP_rate / reward_low_FN_rate)
 * against the best single fixed probation's 60.54 and NAB's look-ahead ARTime's 74.85 (README,
 * "Without NAB's look-ahead", where every configuration tried is listed with the
 * cross-validation of choosing among them).
 *
 * @example
 * const d = new MultiScaleARTime();
 * for (const [t, x] of rows) console.log(d.update(t, x));
 */
import { decodeState, encodeState } from './state-codec.js';
import { ARTimeDetector, type ARTimeOnlineOptions } from './artime.js';

export interface MultiScaleConfig {
  /** Probations (rows) of the instances, ascending. */
  probations: number[];
  /** Row t (1-based) takes the score of the instance with the longest probation ≤ handover × t. */
  handover: number;
  /** How each instance learns the value range (`ARTimeOnlineOptions`). */
  range: ARTimeOnlineOptions['range'];
  margin: number;
}

export const MULTI_SCALE_DEFAULTS: Readonly<MultiScaleConfig> = Object.freeze({
  probations: [150, 300, 450, 600, 750],
  handover: 0.5,
  range: 'remap',
  margin: 0.5,
});

export class MultiScaleARTime {
  readonly config: Readonly<MultiScaleConfig>;
  /** One instance per probation; those before `speaking` are dropped (never heard again). */
  private readonly instances: (ARTimeDetector | undefined)[];
  private speaking = 0;
  private row = 0;

  constructor(config: Partial<MultiScaleConfig> = {}) {
    const c = { ...MULTI_SCALE_DEFAULTS, ...config };
    const ascending = c.probations.every((p, k) => k === 0 || p > c.probations[k - 1]!);
    if (c.probations.length === 0 || !ascending || !(c.handover > 0))
      throw new Error(
        `MultiScaleARTime: probations must be ascending and non-empty, handover > 0 (got ${JSON.stringify(c)})`,
      );
    this.config = Object.freeze({ ...c, probations: [...c.probations] });
    this.instances = c.probations.map(
      (p) => new ARTimeDetector({ online: { probationRows: p, range: c.range, margin: c.margin } }),
    );
  }

  /** Rows learned so far. */
  get rows(): number {
    return this.row;
  }

  /** The probation (rows) of the instance that scored the last row. */
  get scale(): number {
    return this.config.probations[this.speaking]!;
  }

  /** What it has learned, as bytes (`MultiScaleARTime.restore` scores the next rows exactly as this one). */
  snapshot(): Uint8Array {
    return encodeState({
      config: this.config,
      row: this.row,
      speaking: this.speaking,
      instances: this.instances.map((d) => d?.snapshot() ?? null),
    });
  }

  /** A detector in the state `snapshot()` saved. */
  static restore(bytes: Uint8Array): MultiScaleARTime {
    const s = decodeState(bytes) as {
      config: MultiScaleConfig;
      row: number;
      speaking: number;
      instances: (Uint8Array | null)[];
    };
    const d = new MultiScaleARTime(s.config);
    d.row = s.row;
    d.speaking = s.speaking;
    s.instances.forEach((b, k) => (d.instances[k] = b ? ARTimeDetector.restore(b) : undefined));
    return d;
  }

  /** Scores value `x` at time `t` with the speaking instance; every instance still heard learns it. */
  update(t: number, x: number): number {
    const row = ++this.row;
    const { probations, handover } = this.config;
    while (this.speaking + 1 < probations.length && probations[this.speaking + 1]! <= handover * row)
      this.instances[this.speaking++] = undefined;
    let score = 0;
    for (let k = this.speaking; k < this.instances.length; k++) {
      const s = this.instances[k]!.update(t, x);
      if (k === this.speaking) score = s;
    }
    return score;
  }
}
