import { InvalidArgumentError, ModelClosedError } from '../errors.js';
import type { InferenceMetrics } from '../metrics.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { Tensor } from '../tensor.js';
import { checkCompatible } from './compatibility.js';
import { cloneInputs, ShadowRecorder, type ShadowOptions, type ShadowStats } from './shadow-compare.js';

/**
 * A model, or how to load one (called while the current version keeps serving).
 *
 * @example
 * const next: ModelSource = () => OnnxModel.load('fraud-v2.onnx', { version: '2' });
 */
export type ModelSource = Model | (() => Promise<Model>);

/**
 * A snapshot of a {@link SwappableModel}.
 *
 * @example
 * const { version, swaps, draining, shadow } = swappable.stats();
 */
export interface SwappableModelStats {
  /** The live version's `metadata.version`. */
  version: string;
  swaps: number;
  /** Calls running now, on any version. */
  inFlight: number;
  /** Replaced versions still finishing their calls (closed when done). */
  draining: number;
  /** Present while a candidate is shadowing the live version. */
  shadow?: ShadowStats;
}

interface Entry {
  model: Model;
  inFlight: number;
  retired: boolean;
  /** The close of the model, once started. */
  closed?: Promise<void>;
  /** Resolves when a retired version with calls in flight has drained and closed. */
  done?: Promise<void>;
  release?: () => void;
}

/**
 * Hot swap: serves one model version and replaces it while running. `swap()` loads the next
 * version beside the live one, checks that inputs and outputs match, then switches: calls
 * that started on the old version (a batch in flight) finish there, new calls go to the new
 * one, and the old one is closed once its last call is done — no call fails. In shadow mode a
 * candidate scores the same inputs off the critical path and the disagreement is recorded;
 * `promote()` then makes it live.
 *
 * @example
 * const live = new SwappableModel(await OnnxModel.load('v1.onnx', { version: '1' }));
 * await live.shadow(() => OnnxModel.load('v2.onnx', { version: '2' }), { threshold: 0.5 });
 * // ... later, if live.stats().shadow.flips is small:
 * await live.promote();
 */
export class SwappableModel implements Model {
  #current: Entry;
  #shadow: { entry: Entry; recorder: ShadowRecorder } | undefined;
  readonly #draining = new Set<Entry>();
  #swaps = 0;
  #inFlight = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(initial: Model, options: { name?: string; metrics?: InferenceMetrics } = {}) {
    this.#current = { model: initial, inFlight: 0, retired: false };
    options.metrics?.register(`swap.${options.name ?? initial.metadata.name}`, this);
  }

  /** The live version's metadata. */
  get metadata(): ModelMetadata {
    return this.#current.model.metadata;
  }

  get idempotent(): boolean | undefined {
    return this.#current.model.idempotent;
  }

  /**
   * Runs on the live version (and, when shadowing, on the candidate too, without waiting for it).
   *
   * @example
   * const out = await live.run({ features });
   */
  async run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>> {
    if (this.#closed) throw new ModelClosedError('the swappable model is closed');
    const entry = this.#current;
    const shadow = this.#shadow;
    const sampled = shadow !== undefined && Math.random() < (shadow.recorder.options.sampleRate ?? 1);
    const copy = sampled ? cloneInputs(inputs) : undefined;
    const live = this.#runOn(entry, inputs, options);
    if (sampled) void this.#runShadow(shadow, copy!, live);
    return live;
  }

  /**
   * Loads the next version (the live one keeps serving meanwhile), checks it is compatible,
   * switches to it, and resolves once the old version has finished its calls and is closed.
   * On a load failure or a mismatch the live version stays and the new one is closed.
   *
   * @example
   * await live.swap(() => OnnxModel.load('fraud-v2.onnx', { version: '2' }));
   */
  swap(next: ModelSource): Promise<void> {
    return this.#serialize(async () => {
      const model = await load(next);
      try {
        checkCompatible(this.metadata, model.metadata);
      } catch (err) {
        await model.close();
        throw err;
      }
      const old = this.#current;
      this.#current = { model, inFlight: 0, retired: false };
      this.#swaps++;
      if (this.#shadow?.entry.model === model) this.#shadow = undefined;
      await this.#retire(old);
    });
  }

  /**
   * Starts shadow mode: the candidate also scores (a sample of) live calls and the
   * disagreement is recorded in `stats().shadow`. Replaces an earlier candidate.
   *
   * @example
   * await live.shadow(() => OnnxModel.load('v2.onnx', { version: '2' }), { tolerance: 1e-3, threshold: 0.5 });
   */
  shadow(candidate: ModelSource, options: ShadowOptions = {}): Promise<void> {
    const rate = options.sampleRate ?? 1;
    if (!(rate >= 0 && rate <= 1))
      throw new InvalidArgumentError(`sampleRate is ${rate}: pass a share in [0, 1]`);
    return this.#serialize(async () => {
      const model = await load(candidate);
      try {
        checkCompatible(this.metadata, model.metadata);
        const output = options.output ?? model.metadata.outputs[0]?.name;
        if (output === undefined || !model.metadata.outputs.some((o) => o.name === output))
          throw new InvalidArgumentError(`shadow output "${output}" is not an output of the model`);
      } catch (err) {
        await model.close();
        throw err;
      }
      const previous = this.#shadow;
      this.#shadow = {
        entry: { model, inFlight: 0, retired: false },
        recorder: new ShadowRecorder(model.metadata.version, options),
      };
      if (previous !== undefined) await this.#retire(previous.entry);
    });
  }

  /**
   * Makes the shadow candidate the live version (as `swap()` would), ending shadow mode.
   *
   * @example
   * if (live.stats().shadow!.flips === 0) await live.promote();
   */
  promote(): Promise<void> {
    const shadow = this.#shadow;
    if (shadow === undefined)
      return Promise.reject(new InvalidArgumentError('no shadow candidate to promote'));
    this.#shadow = undefined;
    return this.swap(shadow.entry.model);
  }

  /**
   * Ends shadow mode and closes the candidate once its calls are done.
   *
   * @example
   * await live.stopShadow();
   */
  async stopShadow(): Promise<void> {
    const shadow = this.#shadow;
    this.#shadow = undefined;
    if (shadow !== undefined) await this.#retire(shadow.entry);
  }

  /**
   * Live version, swaps done, calls in flight, versions draining, shadow disagreement.
   *
   * @example
   * console.log(live.stats().version);
   */
  stats(): SwappableModelStats {
    const s: SwappableModelStats = {
      version: this.metadata.version,
      swaps: this.#swaps,
      inFlight: this.#inFlight,
      draining: this.#draining.size,
    };
    if (this.#shadow !== undefined) s.shadow = this.#shadow.recorder.snapshot();
    return s;
  }

  /**
   * Waits for calls in flight, then closes every version held (live, candidate, draining).
   *
   * @example
   * await live.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => {});
    const entries = [this.#current, ...(this.#shadow ? [this.#shadow.entry] : []), ...this.#draining];
    this.#shadow = undefined;
    await Promise.all(entries.map((e) => this.#retire(e)));
  }

  async #runOn(
    entry: Entry,
    inputs: Record<string, Tensor>,
    options?: ModelRunOptions,
  ): Promise<Record<string, Tensor>> {
    entry.inFlight++;
    this.#inFlight++;
    try {
      return await entry.model.run(inputs, options);
    } finally {
      entry.inFlight--;
      this.#inFlight--;
      if (entry.retired && entry.inFlight === 0) {
        const release = (): void => entry.release?.();
        this.#closeEntry(entry).then(release, release);
      }
    }
  }

  async #runShadow(
    shadow: { entry: Entry; recorder: ShadowRecorder },
    inputs: Record<string, Tensor>,
    live: Promise<Record<string, Tensor>>,
  ): Promise<void> {
    const name = shadow.recorder.options.output ?? shadow.entry.model.metadata.outputs[0]!.name;
    try {
      const [a, b] = await Promise.all([live, this.#runOn(shadow.entry, inputs)]);
      shadow.recorder.compare(a[name]!, b[name]!);
    } catch {
      shadow.recorder.failures++; // also counted when the live call failed: nothing to compare
    }
  }

  /** Marks a version retired; closes it when its last call ends (now, if none runs). */
  #retire(entry: Entry): Promise<void> {
    entry.retired = true;
    if (entry.inFlight === 0) return this.#closeEntry(entry);
    this.#draining.add(entry);
    return (entry.done ??= new Promise<void>((resolve) => (entry.release = resolve)));
  }

  #closeEntry(entry: Entry): Promise<void> {
    this.#draining.delete(entry);
    entry.closed ??= entry.model.close();
    return entry.closed;
  }

  #serialize(task: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new ModelClosedError('the swappable model is closed'));
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

async function load(source: ModelSource): Promise<Model> {
  return typeof source === 'function' ? source() : source;
}
