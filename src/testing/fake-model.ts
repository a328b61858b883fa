// A model for tests: answers from a fixed score or a function of each row, and fails, slows
// down or goes unavailable when the test says so, with the same errors a real runner throws,
// so `.infer(model, { onUnavailable })` and `withResilience` treat it as they would a server.

import {
  InferenceError,
  InferenceErrorCodes,
  RemoteModelError,
  float32Tensor,
  type Model,
  type ModelMetadata,
  type ModelRunOptions,
  type Tensor,
} from '../inference/index.js';

/**
 * What a fake model answers per row: a score, or several (one output row).
 *
 * @example
 * fakeModel({ score: [0.1, 0.9] }); // two values per row
 */
export type FakeAnswer = number | readonly number[];

/**
 * How a fake model answers.
 *
 * @example
 * fakeModel({ name: 'fraud', width: 15, latencyMs: 20, score: (row) => row[0]! });
 */
export interface FakeModelOptions {
  /** Model name in its metadata; default "fake". */
  name?: string;
  /** The answer: the same for every row, or computed from the row's features. Default 0. */
  score?: FakeAnswer | ((row: Float32Array, index: number) => FakeAnswer);
  /** Features per row the model declares; default any (-1). */
  width?: number;
  /** Input and output names; default "features" and "score". */
  inputName?: string;
  outputName?: string;
  /** Real milliseconds each call takes (keeps timeouts and overlap testable); default 0. */
  latencyMs?: number;
}

/**
 * Kinds of failure a test can inject.
 *
 * @example
 * model.failNext(1, 'unavailable');
 */
export type FakeFailure =
  /** The model refuses the input (dims): the infer stage dead-letters the batch's records under every policy. */
  | 'badInput'
  /** The call fails for no reason the stage can tell (a model bug): dead letters. */
  | 'error'
  /** The model cannot answer now (HTTP 503): `onUnavailable` decides (wait, deadLetter, fallback). */
  | 'unavailable';

/** Models in an outage, so a test driver knows a stage waiting on one cannot move on by itself. */
export const modelsDown = new Set<FakeModel>();

/**
 * A scripted model: fixed or computed answers, injected latency, failures and outages.
 *
 * @example
 * const model = fakeModel({ score: (row) => (row[0]! > 100 ? 0.9 : 0.1) });
 * model.failNext(2, 'badInput'); // the next two calls refuse their input
 * model.outage();                // every call fails as unavailable until...
 * model.recover();
 * model.calls;                   // calls made; model.rows: every row it was given
 */
export function fakeModel(opts: FakeModelOptions = {}): FakeModel {
  return new FakeModel(opts);
}

/**
 * The model {@link fakeModel} makes: a `Model` that any runner wrapper (`withResilience`,
 * a batcher) and `.infer()` accept.
 *
 * @example
 * const model = new FakeModel({ score: 0.5 });
 * stream.infer(withResilience(model, { fallback: { value: -1 } }), opts);
 */
export class FakeModel implements Model {
  readonly metadata: ModelMetadata;
  /** Calls made (failed ones included). */
  calls = 0;
  /** Every row the model was given (failed calls included), in order. */
  readonly rows: number[][] = [];
  private readonly failures: FakeFailure[] = [];
  private down = false;
  private closed = false;

  constructor(private readonly opts: FakeModelOptions = {}) {
    const width = opts.width ?? -1;
    this.metadata = {
      name: opts.name ?? 'fake',
      version: 'test',
      inputs: [{ name: opts.inputName ?? 'features', type: 'float32', dims: ['N', width] }],
      outputs: [{ name: opts.outputName ?? 'score', type: 'float32', dims: ['N', -1] }],
    };
  }

  /** The next `times` calls fail as `kind` (after those, calls answer again). */
  failNext(times = 1, kind: FakeFailure = 'error'): this {
    for (let i = 0; i < times; i++) this.failures.push(kind);
    return this;
  }

  /** Every call fails as unavailable (HTTP 503) until `recover()`. */
  outage(): this {
    this.down = true;
    modelsDown.add(this);
    return this;
  }

  recover(): this {
    this.down = false;
    modelsDown.delete(this);
    return this;
  }

  /** True during an outage. */
  get unavailable(): boolean {
    return this.down;
  }

  async run(inputs: Record<string, Tensor>, options: ModelRunOptions = {}): Promise<Record<string, Tensor>> {
    if (this.closed) throw new InferenceError(InferenceErrorCodes.modelClosed, 'fake model: closed');
    this.calls++;
    const input = inputs[this.metadata.inputs[0]!.name] ?? Object.values(inputs)[0]!;
    const [n = 0, width = 0] = input.dims;
    const data = input.data as Float32Array;
    for (let i = 0; i < n; i++) this.rows.push(Array.from(data.subarray(i * width, (i + 1) * width)));
    if (this.opts.latencyMs) await delay(this.opts.latencyMs, options.signal);
    if (this.down) throw new RemoteModelError('fake model: unavailable (HTTP 503)', 503, { retryable: true });
    const failure = this.failures.shift();
    if (failure === 'unavailable')
      throw new RemoteModelError('fake model: unavailable (HTTP 503)', 503, { retryable: true });
    if (failure === 'badInput')
      throw new InferenceError(InferenceErrorCodes.inputDims, 'fake model: refused the input');
    if (failure === 'error') throw new InferenceError(InferenceErrorCodes.modelRun, 'fake model: failed');
    const answers: number[] = [];
    let k = 1;
    for (let i = 0; i < n; i++) {
      const row = data.subarray(i * width, (i + 1) * width);
      const s = this.opts.score ?? 0;
      const a = typeof s === 'function' ? s(row, i) : s;
      const vals = typeof a === 'number' ? [a] : a;
      k = vals.length;
      answers.push(...vals);
    }
    return { [this.metadata.outputs[0]!.name]: float32Tensor(answers, [n, k]) };
  }

  async close(): Promise<void> {
    this.closed = true;
    modelsDown.delete(this);
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new InferenceError(InferenceErrorCodes.aborted, 'fake model: call aborted'));
      },
      { once: true },
    );
  });
}
