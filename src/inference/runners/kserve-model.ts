import { InvalidArgumentError, ModelClosedError, ModelLoadError } from '../errors.js';
import { RemoteModelError } from '../serving-errors.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { Tensor } from '../tensor.js';
import { validateInputs } from '../validate.js';
import { requestJson } from './http-json.js';
import { decodeInferResponse, encodeInferRequest, metadataFromKServe } from './kserve-codec.js';
import { redactUrls } from '../../core/redact.js';

/**
 * Options of {@link KServeModel.connect}.
 *
 * @example
 * const opts: KServeModelOptions = { url: 'http://127.0.0.1:8000', model: 'fraud', version: '2' };
 */
export interface KServeModelOptions {
  /** Server base URL (Triton, KServe, Seldon MLServer...), e.g. `http://127.0.0.1:8000`. */
  url: string;
  model: string;
  /** Model version; default: the server's choice. */
  version?: string;
  /** Extra headers on every request (e.g. an authorization header). */
  headers?: Record<string, string>;
  /** Outputs to request; default every output in the metadata. */
  outputs?: readonly string[];
  /** Fail `connect()` unless the model reports ready; default true. */
  checkReady?: boolean;
  /** Bound on each start-up request (ready, metadata), ms; default 10 000. Run timeouts belong to `withResilience`. */
  connectTimeoutMs?: number;
}

/**
 * A model served by a remote server speaking the Open Inference Protocol (KServe v2) over
 * HTTP/JSON: Triton, KServe, Seldon MLServer, TorchServe's v2 API. Metadata is loaded at
 * connect; inputs are checked locally, then sent flattened row-major with the batch in the
 * shape. HTTP 503/429 reject with `ModelOverloadedError` (shed load: back off), not a model
 * error. Wrap it with `withResilience` for timeouts, retries and a breaker.
 *
 * @example
 * const remote = await KServeModel.connect({ url: 'http://127.0.0.1:8000', model: 'fraud' });
 * const { score } = await remote.run({ features: float32Tensor(rows, [n, 15]) });
 */
export class KServeModel implements Model {
  readonly metadata: ModelMetadata;
  readonly idempotent = true;
  readonly #base: string;
  readonly #path: string;
  readonly #headers: Record<string, string>;
  readonly #outputs: readonly string[];
  #nextId = 1;
  #closed = false;

  private constructor(o: KServeModelOptions, metadata: ModelMetadata) {
    this.#base = o.url.replace(/\/+$/, '');
    this.#path = modelPath(o);
    this.#headers = o.headers ?? {};
    this.metadata = metadata;
    this.#outputs = o.outputs ?? metadata.outputs.map((s) => s.name);
  }

  /**
   * Checks that the model is ready (unless `checkReady: false`) and loads its metadata.
   * Rejects with `ModelLoadError` saying what failed.
   *
   * @example
   * const model = await KServeModel.connect({ url, model: 'fraud', version: '3' });
   */
  static async connect(o: KServeModelOptions): Promise<KServeModel> {
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url))
      throw new InvalidArgumentError(
        `url is "${redactUrls(o.url)}": pass the server's base URL, e.g. http://127.0.0.1:8000`,
      );
    if (typeof o.model !== 'string' || o.model === '')
      throw new InvalidArgumentError('model is empty: pass the model name the server knows');
    const base = o.url.replace(/\/+$/, '');
    const signal = AbortSignal.timeout(o.connectTimeoutMs ?? 10_000);
    const where = `${base}${modelPath(o)}`;
    try {
      if (o.checkReady !== false) {
        await requestJson({ method: 'GET', url: `${where}/ready`, headers: o.headers, signal });
      }
      const { body } = await requestJson({ method: 'GET', url: where, headers: o.headers, signal });
      const metadata = metadataFromKServe(body, o.version);
      for (const name of o.outputs ?? []) {
        if (!metadata.outputs.some((s) => s.name === name))
          throw new InvalidArgumentError(
            `output "${name}" is not an output of model "${o.model}" at ${base}`,
          );
      }
      return new KServeModel(o, metadata);
    } catch (cause) {
      if (cause instanceof InvalidArgumentError) throw cause;
      const why =
        cause instanceof RemoteModelError && cause.status === 404 ? ' (no such model or version)' : '';
      throw new ModelLoadError(
        `could not connect to model "${o.model}" at ${base}${why}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  /**
   * Runs one batch: `POST /v2/models/{name}[/versions/{v}]/infer`.
   *
   * @example
   * const out = await remote.run({ features }, { signal: AbortSignal.timeout(100) });
   */
  async run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>> {
    if (this.#closed) throw new ModelClosedError(`model "${this.metadata.name}" is closed: connect again`);
    validateInputs(this.metadata.inputs, inputs);
    const body = encodeInferRequest(inputs, this.#outputs, String(this.#nextId++));
    const res = await requestJson({
      method: 'POST',
      url: `${this.#base}${this.#path}/infer`,
      body,
      headers: this.#headers,
      signal: options?.signal,
    });
    return decodeInferResponse(res.body);
  }

  /**
   * Whether the server is live (`GET /v2/health/live` answers 200).
   *
   * @example
   * if (!(await remote.live())) console.warn('server down');
   */
  live(signal?: AbortSignal): Promise<boolean> {
    return this.#probe('/v2/health/live', signal);
  }

  /**
   * Whether this model (version) is ready (`GET /v2/models/{name}[/versions/{v}]/ready`).
   *
   * @example
   * await remote.ready();
   */
  ready(signal?: AbortSignal): Promise<boolean> {
    return this.#probe(`${this.#path}/ready`, signal);
  }

  /**
   * Whether the server is ready for requests (`GET /v2/health/ready`).
   *
   * @example
   * await remote.serverReady();
   */
  serverReady(signal?: AbortSignal): Promise<boolean> {
    return this.#probe('/v2/health/ready', signal);
  }

  /**
   * Marks the model closed; there is nothing to release (HTTP connections are pooled by fetch).
   *
   * @example
   * await remote.close();
   */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async #probe(path: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await requestJson({ method: 'GET', url: `${this.#base}${path}`, headers: this.#headers, signal });
      return true;
    } catch {
      return false;
    }
  }
}

function modelPath(o: KServeModelOptions): string {
  const name = `/v2/models/${encodeURIComponent(o.model)}`;
  return o.version === undefined ? name : `${name}/versions/${encodeURIComponent(o.version)}`;
}
