// Scoring with two model versions and recording how much they disagree.
import type { Tensor } from '../tensor.js';

/**
 * How shadow mode compares the candidate with the live model.
 *
 * @example
 * const opts: ShadowOptions = { output: 'score', tolerance: 1e-3, threshold: 0.5, sampleRate: 0.1 };
 */
export interface ShadowOptions {
  /** Output compared; default the model's first output. */
  output?: string;
  /** A row disagrees when some element differs by more than this; default 1e-6. */
  tolerance?: number;
  /** A decision threshold: a row "flips" when the two scores fall on different sides of it. */
  threshold?: number;
  /** Share of calls also scored by the candidate, in [0, 1]; default 1. */
  sampleRate?: number;
}

/**
 * What shadow mode has recorded so far.
 *
 * @example
 * const { rows, disagreements, flips, maxAbsDiff } = swappable.stats().shadow!;
 */
export interface ShadowStats {
  /** The candidate's version. */
  version: string;
  /** Calls scored by both. */
  compared: number;
  rows: number;
  /** Rows differing by more than the tolerance. */
  disagreements: number;
  /** Rows on different sides of the threshold (0 without one). */
  flips: number;
  meanAbsDiff: number;
  maxAbsDiff: number;
  /** Candidate calls that failed (the live answer is never affected). */
  failures: number;
}

/**
 * Accumulates the disagreement between live and candidate outputs.
 *
 * @example
 * const rec = new ShadowRecorder('2', { tolerance: 1e-3 }); rec.compare(live.score, candidate.score);
 */
export class ShadowRecorder {
  #compared = 0;
  #rows = 0;
  #disagreements = 0;
  #flips = 0;
  #sumAbs = 0;
  #elements = 0;
  #maxAbs = 0;
  failures = 0;

  constructor(
    readonly version: string,
    readonly options: ShadowOptions,
  ) {}

  /** Compares one call's output tensors row by row. */
  compare(live: Tensor, candidate: Tensor): void {
    const a = live.data as ArrayLike<number>;
    const b = candidate.data as ArrayLike<number>;
    const rows = live.dims[0] ?? 1;
    if (a.length !== b.length || rows === 0) {
      this.failures++;
      return;
    }
    const width = a.length / rows;
    const tol = this.options.tolerance ?? 1e-6;
    const thr = this.options.threshold;
    this.#compared++;
    this.#rows += rows;
    for (let i = 0; i < rows; i++) {
      let disagrees = false;
      for (let j = 0; j < width; j++) {
        const x = Number(a[i * width + j]);
        const y = Number(b[i * width + j]);
        const d = Math.abs(x - y);
        this.#sumAbs += d;
        this.#elements++;
        if (d > this.#maxAbs) this.#maxAbs = d;
        if (d > tol || Number.isNaN(d)) disagrees = true;
        if (j === 0 && thr !== undefined && x >= thr !== y >= thr) this.#flips++;
      }
      if (disagrees) this.#disagreements++;
    }
  }

  snapshot(): ShadowStats {
    return {
      version: this.version,
      compared: this.#compared,
      rows: this.#rows,
      disagreements: this.#disagreements,
      flips: this.#flips,
      meanAbsDiff: this.#elements === 0 ? 0 : this.#sumAbs / this.#elements,
      maxAbsDiff: this.#maxAbs,
      failures: this.failures,
    };
  }
}

/**
 * Copies input tensors (the live model may transfer, and so detach, the originals).
 *
 * @example
 * const copy = cloneInputs(inputs);
 */
export function cloneInputs(inputs: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(inputs))
    out[name] = { type: t.type, data: t.data.slice(), dims: [...t.dims] };
  return out;
}
