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
  /**
   * The binary tensor data extension (Triton, KServe, MLServer): `'auto'` (default) uses it when
   * the server lists `binary_tensor_data` in its metadata (`GET /v2`), `'always'` without asking,
   * `'never'` keeps JSON. When used, inputs of `binaryThresholdBytes` or more go as raw bytes and
   * every output is asked for as binary data.
   */
  binaryData?: 'auto' | 'always' | 'never';
  /** Smallest input sent as binary data, bytes; default 16 384 (0: every input). */
  binaryThresholdBytes?: number;
  /** Triton's schedule-policy `priority` for every request (1 = highest; a call's `priority` overrides). */
  priority?: number;
  /** Triton's schedule-policy `timeout` for every request, µs (a call's `queueTimeoutMicros` overrides). */
  timeoutMicros?: number;
}

/**
 * A model served by a remote server speaking the Open Inference Protocol (KServe v2) over
 * HTTP/JSON: Triton, KServe, Seldon MLServer, TorchServe's v2 API. Metadata is loaded at
 * connect; inputs are checked locally, then sent flattened row-major with the batch in the
 * shape. HTTP 503/429 reject with `ModelOverloadedError` (shed load: back off), not a model
 * error. Wrap it with `withResilience` for timeouts, retries and a breaker. Triton specifics:
 * the binary tensor data extension for large tensors (`binaryData`), server and model
 * readiness checked at connect, and the schedule policy's `priority` and `timeout` per request.
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
  readonly #o: KServeModelOptions;
  readonly #binary: boolean;
  #nextId = 1;
  #closed = false;

  private constructor(o: KServeModelOptions, metadata: ModelMetadata, binary: boolean) {
    this.#base = o.url.replace(/\/+$/, '');
    this.#path = modelPath(o);
    this.#headers = o.headers ?? {};
    this.#o = o;
    this.#binary = binary;
    this.metadata = metadata;
    this.#outputs = o.outputs ?? metadata.outputs.map((s) => s.name);
  }

  /**
   * Whether calls use the binary tensor data extension.
   *
   * @example
   * if (!remote.binaryData) console.warn('large tensors go as JSON');
   */
  get binaryData(): boolean {
    return this.#binary;
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
    for (const [name, v] of [
      ['binaryThresholdBytes', o.binaryThresholdBytes],
      ['priority', o.priority],
      ['timeoutMicros', o.timeoutMicros],
    ] as const)
      if (v !== undefined && (!Number.isInteger(v) || v < 0))
        throw new InvalidArgumentError(`${name} is ${v}: pass an integer >= 0`);
    const mode = o.binaryData ?? 'auto';
    if (!['auto', 'always', 'never'].includes(mode))
      throw new InvalidArgumentError(`binaryData is "${String(mode)}": pass "auto", "always" or "never"`);
    const base = o.url.replace(/\/+$/, '');
    const signal = AbortSignal.timeout(o.connectTimeoutMs ?? 10_000);
    const where = `${base}${modelPath(o)}`;
    const get = (url: string) => requestJson({ method: 'GET', url, headers: o.headers, signal });
    const fail = (what: string, cause: unknown) =>
      new ModelLoadError(
        `could not connect to model "${o.model}" at ${base}: ${what}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    if (o.checkReady !== false) {
      try {
        await get(`${base}/v2/health/ready`);
      } catch (cause) {
        throw fail('the server is not ready (GET /v2/health/ready); is it still loading, or down?', cause);
      }
      try {
        await get(`${where}/ready`);
      } catch (cause) {
        throw fail(
          `the model is not ready (GET ${modelPath(o)}/ready)${notFound(cause)}; check that the server loaded it (model repository, server log)`,
          cause,
        );
      }
    }
    let metadata: ModelMetadata;
    try {
      metadata = metadataFromKServe((await get(where)).body, o.version);
    } catch (cause) {
      throw fail(`its metadata could not be read (GET ${modelPath(o)})${notFound(cause)}`, cause);
    }
    for (const name of o.outputs ?? []) {
      if (!metadata.outputs.some((s) => s.name === name))
        throw new InvalidArgumentError(`output "${name}" is not an output of model "${o.model}" at ${base}`);
    }
    let binary = mode === 'always';
    if (mode === 'auto') {
      // The server says which extensions it speaks; one that does not answer speaks JSON only.
      const server = await get(`${base}/v2`).catch(() => undefined);
      const ext = (server?.body as { extensions?: unknown } | undefined)?.extensions;
      binary = Array.isArray(ext) && ext.includes('binary_tensor_data');
    }
    return new KServeModel(o, metadata, binary);
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
    // Triton's schedule policy (extension_schedule_policy.md): priority 1 = highest, timeout in µs.
    const parameters: Record<string, number> = {};
    const priority = options?.priority ?? this.#o.priority;
    if (priority !== undefined) parameters.priority = priority;
    const timeout = options?.queueTimeoutMicros ?? this.#o.timeoutMicros;
    if (timeout !== undefined) parameters.timeout = Math.round(timeout);
    const { body, headerLength } = encodeInferRequest(inputs, this.#outputs, String(this.#nextId++), {
      binaryThresholdBytes: this.#binary ? (this.#o.binaryThresholdBytes ?? 16_384) : undefined,
      binaryOutputs: this.#binary,
      parameters,
    });
    const res = await requestJson({
      method: 'POST',
      url: `${this.#base}${this.#path}/infer`,
      body,
      headerLength,
      headers: this.#headers,
      signal: options?.signal,
    });
    return decodeInferResponse(res.body, res.binary);
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

function notFound(cause: unknown): string {
  return cause instanceof RemoteModelError && cause.status === 404 ? ' (no such model or version)' : '';
}

function modelPath(o: KServeModelOptions): string {
  const name = `/v2/models/${encodeURIComponent(o.model)}`;
  return o.version === undefined ? name : `${name}/versions/${encodeURIComponent(o.version)}`;
}
