import { Worker } from 'node:worker_threads';
import { ModelClosedError, ModelLoadError } from '../errors.js';
import { InferenceAbortedError, WorkerError } from '../serving-errors.js';
import type { InputPlan, Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { OnnxModelOptions } from '../onnx-model.js';
import type { Tensor } from '../tensor.js';
import { checkInputPlan, validateInputs } from '../validate.js';
import {
  errorFromWire,
  fromWire,
  toWire,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.js';

/**
 * Options of {@link OnnxWorkerModel.load}: those of `OnnxModel.load`, plus the pool size.
 *
 * @example
 * const opts: OnnxWorkerModelOptions = { workers: 2, intraOpNumThreads: 1 };
 */
export interface OnnxWorkerModelOptions extends OnnxModelOptions {
  /** Worker threads, each with its own session; default 1. */
  workers?: number;
  /**
   * Move input buffers to the worker instead of copying them (default true): the caller's
   * typed arrays are detached afterwards, so pass fresh ones (the batcher and pipeline do).
   */
  transferInputs?: boolean;
}

/**
 * Test hook: the worker slots of an {@link OnnxWorkerModel} (not re-exported from the index).
 *
 * @example
 * await model[kWorkerSlots][0].worker.terminate(); // simulate a crash
 */
export const kWorkerSlots = Symbol('sluice.onnxWorkerModel.slots');

interface Call {
  resolve: (out: Record<string, Tensor>) => void;
  reject: (err: unknown) => void;
}

// tsx runs this file as .ts in tests and development; a worker cannot load .ts by itself, so
// it first registers tsx's loader (found from here), then imports the thread's module.
const HERE = import.meta.url;
const THREAD_URL = new URL(
  HERE.endsWith('.ts') ? './onnx-worker-thread.ts' : './onnx-worker-thread.js',
  HERE,
);

function startWorker(init: WorkerInit): Worker {
  if (!HERE.endsWith('.ts')) return new Worker(THREAD_URL, { workerData: init });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot =
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); ` +
    `return import(${JSON.stringify(THREAD_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData: init });
}

/** One worker thread and the calls it owes. */
class Slot {
  worker!: Worker;
  ready!: Promise<ModelMetadata>;
  readonly pending = new Map<number, Call>();
  answers: Extract<FromWorker, { type: 'result' | 'error' }>[] = [];
  closing = false;

  constructor(private readonly init: WorkerInit) {
    this.spawn();
  }

  spawn(): void {
    const worker = startWorker(this.init);
    this.worker = worker;
    this.ready = new Promise<ModelMetadata>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') resolve(msg.metadata);
        else if (msg.type === 'load-error') reject(new ModelLoadError(msg.error.message));
        else if (msg.type === 'result' || msg.type === 'error') this.answer(msg);
      });
      const lost = (cause: unknown): void => {
        reject(new ModelLoadError(`the model worker thread failed to start: ${String(cause)}`, { cause }));
        this.failAll(cause);
        // a crashed worker is replaced, so later calls run again; calls it held were rejected
        if (!this.closing && this.worker === worker) this.spawn();
      };
      worker.on('error', lost);
      worker.on('exit', (code) => {
        if (!this.closing || this.pending.size > 0) lost(new Error(`worker exited with code ${code}`));
      });
    });
    this.ready.catch(() => {});
  }

  /**
   * Settles calls on the next turn of the event loop. Node drains a port's queue in one go
   * (up to 1000 messages), and settling inline lets callers post more work whose answers join
   * that same drain: timers would starve under load. Deferring keeps the loop turning.
   */
  answer(msg: Extract<FromWorker, { type: 'result' | 'error' }>): void {
    this.answers.push(msg);
    if (this.answers.length > 1) return;
    setImmediate(() => {
      const answers = this.answers;
      this.answers = [];
      for (const a of answers) {
        const call = this.pending.get(a.id);
        this.pending.delete(a.id);
        if (a.type === 'result') call?.resolve(fromWire(a.outputs));
        else call?.reject(errorFromWire(a.error));
      }
    });
  }

  failAll(cause: unknown): void {
    for (const call of this.pending.values())
      call.reject(
        new WorkerError(`the model worker thread stopped: ${String(cause)}; the call can be retried`, {
          cause,
        }),
      );
    this.pending.clear();
  }

  post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }
}

/**
 * An ONNX model run by ONNX Runtime in worker threads. `session.run()` blocks the thread that
 * calls it for the whole inference; here that is a worker's thread, so the pipeline's event
 * loop keeps polling, timing and acting while the model computes. Inputs and outputs cross
 * the thread boundary as transferred buffers (no copy). Results equal `OnnxModel`'s.
 *
 * @example
 * const model = await OnnxWorkerModel.load('fraud.onnx', { workers: 2, intraOpNumThreads: 1 });
 * const scorer = batchedModel(model, { maxBatchSize: 512, maxInFlightBatches: 2 });
 */
export class OnnxWorkerModel implements Model {
  readonly metadata: ModelMetadata;
  readonly #slots: Slot[];
  readonly #transfer: boolean;
  #nextId = 1;
  #closed = false;

  private constructor(slots: Slot[], metadata: ModelMetadata, transfer: boolean) {
    this.#slots = slots;
    this.metadata = metadata;
    this.#transfer = transfer;
  }

  /**
   * Starts the worker threads, each loading the model (and warming it up, as `OnnxModel.load`
   * does); resolves when all are ready.
   *
   * @example
   * const model = await OnnxWorkerModel.load(bytes, { name: 'lr', workers: 2 });
   */
  static async load(
    source: string | Uint8Array,
    opts: OnnxWorkerModelOptions = {},
  ): Promise<OnnxWorkerModel> {
    const { workers = 1, transferInputs = true, ...options } = opts;
    if (!Number.isInteger(workers) || workers < 1)
      throw new ModelLoadError(`workers is ${workers}: pass an integer >= 1`);
    const slots = Array.from({ length: workers }, () => new Slot({ source, options }));
    try {
      const metas = await Promise.all(slots.map((s) => s.ready));
      return new OnnxWorkerModel(slots, metas[0]!, transferInputs);
    } catch (err) {
      for (const s of slots) {
        s.closing = true;
        void s.worker.terminate();
      }
      throw err;
    }
  }

  /**
   * Runs one batch on the least busy worker. Inputs are checked here first, so a bad call
   * never detaches the caller's buffers.
   *
   * @example
   * const { score } = await model.run({ features: float32Tensor(rows, [n, 15]) });
   */
  async run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>> {
    if (this.#closed)
      throw new ModelClosedError(`model "${this.metadata.name}" is closed: load it again to run it`);
    validateInputs(this.metadata.inputs, inputs);
    const signal = options?.signal;
    if (signal?.aborted === true) throw new InferenceAbortedError('the call was aborted');
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    await slot.ready;
    const id = this.#nextId++;
    const { wire, transfer } = toWire(inputs, this.#transfer);
    return new Promise<Record<string, Tensor>>((resolve, reject) => {
      if (signal !== undefined) {
        // the worker cannot stop a native run; the caller stops waiting and the result is dropped
        const onAbort = (): void => {
          slot.pending.delete(id);
          reject(new InferenceAbortedError('the call was aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const done = (): void => signal.removeEventListener('abort', onAbort);
        slot.pending.set(id, {
          resolve: (o) => (done(), resolve(o)),
          reject: (e) => (done(), reject(e)),
        });
      } else slot.pending.set(id, { resolve, reject });
      slot.post({ type: 'run', id, inputs: wire }, transfer);
    });
  }

  /** The worker slots, for tests that simulate a crash. */
  get [kWorkerSlots](): readonly { readonly worker: Worker }[] {
    return this.#slots;
  }

  /**
   * Checks once that what a pipeline plans to feed fits this model (see `OnnxModel.checkInputs`).
   *
   * @example
   * model.checkInputs([{ name: 'features', dims: ['N', 15] }]);
   */
  checkInputs(plan: readonly InputPlan[]): void {
    checkInputPlan(this.metadata.inputs, plan);
  }

  /**
   * Lets calls in flight finish, releases every worker's session and stops the threads.
   *
   * @example
   * await model.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (s) => {
        s.closing = true;
        const exited = new Promise((resolve) => s.worker.once('exit', resolve));
        s.post({ type: 'close' }); // queued behind the runs already posted
        const timer = setTimeout(() => void s.worker.terminate(), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
