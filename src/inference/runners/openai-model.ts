import { InvalidArgumentError, ModelClosedError, ModelLoadError } from '../errors.js';
import { ProtocolError } from '../serving-errors.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { Tensor } from '../tensor.js';
import { validateInputs } from '../validate.js';
import { requestJson } from './http-json.js';
import { parseClassification } from './openai-parse.js';

/**
 * Options of {@link OpenAIModel.connect}.
 *
 * @example
 * const emb: OpenAIModelOptions = { task: 'embeddings', model: 'text-embedding-3-small', dimensions: 256 };
 * const cls: OpenAIModelOptions = { task: 'classify', model: 'gpt-4o-mini', labels: ['legit', 'fraud'] };
 */
export interface OpenAIModelOptions {
  task: 'embeddings' | 'classify';
  model: string;
  /** Default `$OPENAI_BASE_URL`, else `https://api.openai.com/v1` (vLLM: `http://host:8000/v1`). */
  baseUrl?: string;
  /** Default read from the environment variable `apiKeyEnv`; local servers may need none. */
  apiKey?: string;
  /** Default `OPENAI_API_KEY`. */
  apiKeyEnv?: string;
  headers?: Record<string, string>;
  /** Embeddings: the vector size to ask for (and declare in metadata); default the model's. */
  dimensions?: number;
  /** Classify: the labels, in output index order. */
  labels?: readonly string[];
  /** Classify: the system prompt; default asks for `{"label": ..., "score": ...}` JSON. */
  instructions?: string;
  /** Classify: sampling temperature; default 0. */
  temperature?: number;
  /** Classify: chat requests in flight per `run()` (one per row); default 8. */
  maxConcurrency?: number;
  /** Whether calls may be retried; default true for embeddings and for classify at temperature 0. */
  idempotent?: boolean;
  /** Check at connect that `GET /models` lists the model; default true. */
  checkModel?: boolean;
}

/**
 * Counters of an {@link OpenAIModel}.
 *
 * @example
 * const { requests, unparsed } = model.stats();
 */
export interface OpenAIModelStats {
  requests: number;
  /** Classify answers from which no label could be read (label −1). */
  unparsed: number;
}

/**
 * A model behind an OpenAI-compatible API (OpenAI, vLLM, llama.cpp server, Ollama...), as a
 * tensor model: input `text` (string [N]). Task `embeddings` outputs `embedding` float32
 * [N, D] from one `/embeddings` call per batch; task `classify` asks `/chat/completions` once
 * per row and parses the answer into `label` int32 [N] (index into `labels`, −1 unreadable)
 * and `score` float32 [N, 1]. The API key comes from the environment.
 *
 * @example
 * const classifier = await OpenAIModel.connect({ task: 'classify', model: 'gpt-4o-mini', labels: ['legit', 'fraud'] });
 * const { label, score } = await classifier.run({ text: { type: 'string', data: ['refund me now!!'], dims: [1] } });
 */
export class OpenAIModel implements Model {
  readonly metadata: ModelMetadata;
  readonly idempotent: boolean;
  readonly #o: OpenAIModelOptions;
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #stats: OpenAIModelStats = { requests: 0, unparsed: 0 };
  #closed = false;

  private constructor(o: OpenAIModelOptions, base: string, headers: Record<string, string>) {
    this.#o = o;
    this.#base = base;
    this.#headers = headers;
    this.idempotent = o.idempotent ?? (o.task === 'embeddings' || (o.temperature ?? 0) === 0);
    const outputs: ModelMetadata['outputs'] =
      o.task === 'embeddings'
        ? [{ name: 'embedding', type: 'float32', dims: ['N', o.dimensions ?? -1] }]
        : [
            { name: 'label', type: 'int32', dims: ['N'] },
            { name: 'score', type: 'float32', dims: ['N', 1] },
          ];
    this.metadata = {
      name: o.model,
      version: '1',
      inputs: [{ name: 'text', type: 'string', dims: ['N'] }],
      outputs,
    };
  }

  /**
   * Checks the options and (unless `checkModel: false`) that the server lists the model.
   *
   * @example
   * const emb = await OpenAIModel.connect({ task: 'embeddings', model: 'bge-small', baseUrl: 'http://127.0.0.1:8000/v1' });
   */
  static async connect(o: OpenAIModelOptions): Promise<OpenAIModel> {
    if (o.task !== 'embeddings' && o.task !== 'classify')
      throw new InvalidArgumentError(`task is "${String(o.task)}": pass "embeddings" or "classify"`);
    if (o.task === 'classify' && (o.labels === undefined || o.labels.length < 2))
      throw new InvalidArgumentError(
        'task "classify" needs labels: pass at least two, e.g. ["legit", "fraud"]',
      );
    const conc = o.maxConcurrency ?? 8;
    if (!Number.isInteger(conc) || conc < 1)
      throw new InvalidArgumentError(`maxConcurrency is ${conc}: pass an integer >= 1`);
    const base = (o.baseUrl ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(
      /\/+$/,
      '',
    );
    const keyEnv = o.apiKeyEnv ?? 'OPENAI_API_KEY';
    const key = o.apiKey ?? process.env[keyEnv];
    if ((key === undefined || key === '') && base.includes('api.openai.com'))
      throw new InvalidArgumentError(`no API key: set the environment variable ${keyEnv} (or pass apiKey)`);
    const headers: Record<string, string> = { ...o.headers };
    if (key !== undefined && key !== '') headers.authorization = `Bearer ${key}`;
    if (o.checkModel !== false) {
      let ids: string[];
      try {
        const { body } = await requestJson({
          method: 'GET',
          url: `${base}/models`,
          headers,
          signal: AbortSignal.timeout(10_000),
        });
        ids = ((body as { data?: { id?: unknown }[] })?.data ?? []).map((m) => String(m.id));
      } catch (cause) {
        throw new ModelLoadError(`could not list the models at ${base}: ${(cause as Error).message}`, {
          cause,
        });
      }
      if (!ids.includes(o.model))
        throw new ModelLoadError(
          `model "${o.model}" is not served at ${base} (it lists ${ids.slice(0, 10).join(', ') || 'none'}); check the name`,
        );
    }
    return new OpenAIModel(o, base, headers);
  }

  /**
   * Embeds or classifies a batch of texts.
   *
   * @example
   * const { embedding } = await emb.run({ text: { type: 'string', data: ['hello', 'world'], dims: [2] } });
   */
  async run(inputs: Record<string, Tensor>, options?: ModelRunOptions): Promise<Record<string, Tensor>> {
    if (this.#closed) throw new ModelClosedError(`model "${this.#o.model}" is closed: connect again`);
    validateInputs(this.metadata.inputs, inputs);
    const texts = inputs.text!.data as string[];
    return this.#o.task === 'embeddings'
      ? this.#embed(texts, options?.signal)
      : this.#classify(texts, options?.signal);
  }

  /**
   * Requests sent and unreadable classify answers.
   *
   * @example
   * console.log(model.stats().unparsed);
   */
  stats(): OpenAIModelStats {
    return { ...this.#stats };
  }

  /**
   * Marks the model closed.
   *
   * @example
   * await model.close();
   */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async #embed(texts: string[], signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
    const body: Record<string, unknown> = { model: this.#o.model, input: texts };
    if (this.#o.dimensions !== undefined) body.dimensions = this.#o.dimensions;
    const res = await this.#post('/embeddings', body, signal);
    const data = (res as { data?: { index?: number; embedding?: unknown }[] })?.data;
    if (!Array.isArray(data) || data.length !== texts.length)
      throw new ProtocolError(
        `/embeddings returned ${Array.isArray(data) ? data.length : 'no'} vectors for ${texts.length} texts`,
      );
    const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const d = (sorted[0]?.embedding as number[] | undefined)?.length ?? 0;
    const out = new Float32Array(texts.length * d);
    sorted.forEach((item, i) => {
      const v = item.embedding as number[];
      if (!Array.isArray(v) || v.length !== d)
        throw new ProtocolError(
          `/embeddings vector ${i} has ${Array.isArray(v) ? v.length : 'no'} values, expected ${d}`,
        );
      out.set(v, i * d);
    });
    return { embedding: { type: 'float32', data: out, dims: [texts.length, d] } };
  }

  async #classify(texts: string[], signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
    const labels = this.#o.labels!;
    const system =
      this.#o.instructions ??
      `Classify the user's message into exactly one of these labels: ${labels.join(', ')}. ` +
        'Answer with JSON only: {"label": "<one of the labels>", "score": <your confidence from 0 to 1>}.';
    const label = new Int32Array(texts.length);
    const score = new Float32Array(texts.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      try {
        await classifyRows();
      } catch (err) {
        next = texts.length; // one failed row fails the batch: stop sending the rest
        throw err;
      }
    };
    const classifyRows = async (): Promise<void> => {
      for (let i = next++; i < texts.length; i = next++) {
        const res = await this.#post(
          '/chat/completions',
          {
            model: this.#o.model,
            temperature: this.#o.temperature ?? 0,
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: texts[i] },
            ],
          },
          signal,
        );
        const content = (res as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message
          ?.content;
        if (typeof content !== 'string')
          throw new ProtocolError(`/chat/completions answer has no choices[0].message.content`);
        const c = parseClassification(content, labels);
        if (c.label < 0) this.#stats.unparsed++;
        label[i] = c.label;
        score[i] = c.score;
      }
    };
    const n = Math.min(this.#o.maxConcurrency ?? 8, texts.length);
    await Promise.all(Array.from({ length: n }, worker));
    return {
      label: { type: 'int32', data: label, dims: [texts.length] },
      score: { type: 'float32', data: score, dims: [texts.length, 1] },
    };
  }

  async #post(path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    this.#stats.requests++;
    const res = await requestJson({
      method: 'POST',
      url: `${this.#base}${path}`,
      body: JSON.stringify(body),
      headers: this.#headers,
      signal,
    });
    return res.body;
  }
}
