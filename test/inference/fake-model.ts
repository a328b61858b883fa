// A scriptable in-memory Model for the batcher, resilience and swap tests.
import type { Model, ModelMetadata, ModelRunOptions, Tensor } from '../../src/inference/index.js';

export interface FakeModelOptions {
  width?: number;
  /** Milliseconds each run takes (a timer, so the event loop stays free). */
  delayMs?: number;
  /** Added to every score, to tell model versions apart. */
  offset?: number;
  name?: string;
  version?: string;
}

/**
 * score[i] = offset + sum of row i's features; records every call's row count and the
 * options it got. `failNext(n)` makes the next n runs reject.
 */
export class FakeModel implements Model {
  readonly metadata: ModelMetadata;
  readonly calls: number[] = [];
  readonly options: (ModelRunOptions | undefined)[] = [];
  delayMs: number;
  offset: number;
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  ranWhileClosed = 0;
  private failures = 0;
  private readonly width: number;

  constructor(opts: FakeModelOptions = {}) {
    this.width = opts.width ?? 3;
    this.delayMs = opts.delayMs ?? 0;
    this.offset = opts.offset ?? 0;
    this.metadata = {
      name: opts.name ?? 'fake',
      version: opts.version ?? '1',
      inputs: [{ name: 'features', type: 'float32', dims: ['N', this.width] }],
      outputs: [{ name: 'score', type: 'float32', dims: ['N', 1] }],
    };
  }

  failNext(n: number): void {
    this.failures = n;
  }

  async run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>> {
    if (this.closed) this.ranWhileClosed++;
    const x = inputs.features!;
    const n = x.dims[0]!;
    this.calls.push(n);
    this.options.push(options);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.closed) this.ranWhileClosed++;
      if (this.failures > 0) {
        this.failures--;
        throw new Error('fake model failure');
      }
      const data = x.data as Float32Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = this.offset;
        for (let j = 0; j < this.width; j++) s += data[i * this.width + j]!;
        out[i] = s;
      }
      return { score: { type: 'float32', data: out, dims: [n, 1] } };
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** One request of `rows` rows whose features all equal `value` (so its score is value × width). */
export function rowsOf(value: number, rows = 1, width = 3): Record<string, Tensor> {
  return {
    features: { type: 'float32', data: new Float32Array(rows * width).fill(value), dims: [rows, width] },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
