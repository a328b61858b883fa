import { setMaxListeners } from 'node:events';
import { InvalidArgumentError, ModelClosedError, ModelLoadError } from '../errors.js';
import { ModelOverloadedError, ProtocolError } from '../serving-errors.js';
import type { Model, ModelMetadata, ModelRunOptions } from '../model.js';
import type { Tensor } from '../tensor.js';
import { validateInputs } from '../validate.js';
import { requestJson } from './http-json.js';
import { parseClassification } from './openai-parse.js';
import {
  chatOutputs,
  chatRequest,
  compileSchema,
  readAnswer,
  usedTokens,
  type StructuredOutput,
} from './openai-chat.js';
import { RequestLimiter, type RequestLimiterStats, type RequestLimits } from './request-limiter.js';
import type { ValidateFunction } from 'ajv';

/**
 * Options of {@link OpenAIModel.connect}.
 *
 * @example
 * const emb: OpenAIModelOptions = { task: 'embeddings', model: 'text-embedding-3-small', dimensions: 256 };
 * const cls: OpenAIModelOptions = { task: 'classify', model: 'gpt-4o-mini', labels: ['legit', 'fraud'] };
 */
export interface OpenAIModelOptions {
  /**
   * `embeddings`: `/embeddings`, a whole batch per request; `classify`: a label and score per
   * row from `/chat/completions`; `chat`: the answer per row, as JSON matching `responseFormat`.
   */
  task: 'embeddings' | 'classify' | 'chat';
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
  /** Classify and chat: the system prompt; classify's default asks for `{"label": ..., "score": ...}` JSON. */
  instructions?: string;
  /** Chat: the JSON Schema answers must match (sent as `response_format: json_schema`, checked on return). */
  responseFormat?: StructuredOutput;
  /** Chat: `max_tokens` per answer; default the server's. */
  maxTokens?: number;
  /** Classify and chat: sampling temperature; default 0. */
  temperature?: number;
  /** Requests in flight at most (the adaptive window grows up to it); default 8. */
  maxConcurrency?: number;
  /** Requests in flight at first; the window then grows by one per window of successes and halves on 429/503. Default half of `maxConcurrency`. */
  initialConcurrency?: number;
  /** Request and token budgets per minute, kept on the client side. */
  limits?: RequestLimits;
  /** Times one request is sent again after 429/503 (after the server's `Retry-After`, else 1 s); default 5. */
  throttleRetries?: number;
  /** Embeddings: texts per `/embeddings` request, at most (a larger batch is split); default 2048. */
  maxInputsPerRequest?: number;
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
  /** Classify answers from which no label could be read (label −1); chat answers that did not parse or validate. */
  unparsed: number;
  /** Tokens used, as the server's `usage` reports them. */
  tokens: number;
  /** The adaptive concurrency window and the throttling seen. */
  limiter: RequestLimiterStats;
}

/**
 * A model behind an OpenAI-compatible API (OpenAI, vLLM, llama.cpp server, Ollama...), as a
 * tensor model: input `text` (string [N]). Task `embeddings` outputs `embedding` float32
 * [N, D] from one `/embeddings` call per batch; task `classify` asks `/chat/completions` once
 * per row and parses the answer into `label` int32 [N] (index into `labels`, −1 unreadable)
 * and `score` float32 [N, 1]; task `chat` outputs `json` string [N], each row's answer checked
 * against `responseFormat` (rows that fail are named in the `ROW_ERRORS` output). Requests go
 * through budgets per minute, `Retry-After` pauses and an adaptive concurrency window. The API
 * key comes from the environment (or `apiKey`) and appears in no message.
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
  readonly #stats = { requests: 0, unparsed: 0, tokens: 0 };
  readonly #limiter: RequestLimiter;
  readonly #validate: ValidateFunction | undefined;
  #closed = false;

  private constructor(
    o: OpenAIModelOptions,
    base: string,
    headers: Record<string, string>,
    validate: ValidateFunction | undefined,
  ) {
    this.#o = o;
    this.#base = base;
    this.#headers = headers;
    this.#validate = validate;
    const maxConcurrency = o.maxConcurrency ?? 8;
    this.#limiter = new RequestLimiter(o.limits, {
      maxConcurrency,
      initialConcurrency: o.initialConcurrency,
    });
    this.idempotent = o.idempotent ?? (o.task === 'embeddings' || (o.temperature ?? 0) === 0);
    const outputs: ModelMetadata['outputs'] =
      o.task === 'embeddings'
        ? [{ name: 'embedding', type: 'float32', dims: ['N', o.dimensions ?? -1] }]
        : o.task === 'chat'
          ? [{ name: 'json', type: 'string', dims: ['N'] }]
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
    if (o.task !== 'embeddings' && o.task !== 'classify' && o.task !== 'chat')
      throw new InvalidArgumentError(`task is "${String(o.task)}": pass "embeddings", "classify" or "chat"`);
    if (o.task === 'classify' && (o.labels === undefined || o.labels.length < 2))
      throw new InvalidArgumentError(
        'task "classify" needs labels: pass at least two, e.g. ["legit", "fraud"]',
      );
    for (const [name, v] of [
      ['maxConcurrency', o.maxConcurrency],
      ['initialConcurrency', o.initialConcurrency],
      ['maxInputsPerRequest', o.maxInputsPerRequest],
      ['maxTokens', o.maxTokens],
    ] as const)
      if (v !== undefined && (!Number.isInteger(v) || v < 1))
        throw new InvalidArgumentError(`${name} is ${v}: pass an integer >= 1`);
    const retries = o.throttleRetries ?? 5;
    if (!Number.isInteger(retries) || retries < 0)
      throw new InvalidArgumentError(`throttleRetries is ${retries}: pass an integer >= 0`);
    const validate = o.responseFormat === undefined ? undefined : await compileSchema(o.responseFormat);
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
    return new OpenAIModel(o, base, headers, validate);
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
    if (this.#o.task === 'embeddings') return this.#embedAll(texts, options?.signal);
    if (this.#o.task === 'chat') return this.#chat(texts, options?.signal);
    return this.#classify(texts, options?.signal);
  }

  /**
   * Requests sent and unreadable classify answers.
   *
   * @example
   * console.log(model.stats().unparsed);
   */
  stats(): OpenAIModelStats {
    return { ...this.#stats, limiter: this.#limiter.stats() };
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

  /** One request per `maxInputsPerRequest` texts (sent together, within the limits), joined in order. */
  async #embedAll(texts: string[], signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
    const per = this.#o.maxInputsPerRequest ?? 2048;
    if (texts.length <= per) return this.#embed(texts, signal);
    const parts: Promise<Record<string, Tensor>>[] = [];
    for (let i = 0; i < texts.length; i += per) parts.push(this.#embed(texts.slice(i, i + per), signal));
    const done = await Promise.all(parts);
    const d = done[0]!.embedding!.dims[1]!;
    const out = new Float32Array(texts.length * d);
    done.forEach((p, i) => {
      if (p.embedding!.dims[1] !== d)
        throw new ProtocolError(
          `/embeddings vectors differ in size across requests (${d}, ${p.embedding!.dims[1]})`,
        );
      out.set(p.embedding!.data as Float32Array, i * per * d);
    });
    return { embedding: { type: 'float32', data: out, dims: [texts.length, d] } };
  }

  async #embed(texts: string[], signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
    const body: Record<string, unknown> = { model: this.#o.model, input: texts };
    if (this.#o.dimensions !== undefined) body.dimensions = this.#o.dimensions;
    let chars = 0;
    for (const t of texts) chars += t.length;
    const res = await this.#post('/embeddings', body, Math.ceil(chars / 4), signal);
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
        const call = chatRequest({
          model: this.#o.model,
          system,
          text: texts[i]!,
          temperature: this.#o.temperature ?? 0,
          maxTokens: this.#o.maxTokens,
          fmt: undefined,
        });
        const res = await this.#post('/chat/completions', call.body, call.tokens, signal);
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

  /** One chat request per row (the limiter decides how many fly at once); a row that does not parse is a row error. */
  async #chat(texts: string[], signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
    const contents = new Array<string>(texts.length);
    const errors = new Array<string>(texts.length);
    const stop = new AbortController(); // one failed request fails the batch: cancel the rest
    const both = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
    setMaxListeners(0, both); // one listener per row's request: not a leak
    const one = async (i: number): Promise<void> => {
      const call = chatRequest({
        model: this.#o.model,
        system: this.#o.instructions,
        text: texts[i]!,
        temperature: this.#o.temperature ?? 0,
        maxTokens: this.#o.maxTokens,
        fmt: this.#o.responseFormat,
      });
      const answer = readAnswer(
        await this.#post('/chat/completions', call.body, call.tokens, both),
        this.#validate,
      );
      if (answer.error !== '') this.#stats.unparsed++;
      contents[i] = answer.error === '' ? answer.content : '';
      errors[i] = answer.error;
    };
    try {
      await Promise.all(texts.map((_t, i) => one(i)));
    } catch (e) {
      stop.abort();
      throw e;
    }
    return chatOutputs(contents, errors);
  }

  /**
   * Sends one request within the limits; on 429/503 waits (the server's `Retry-After`, else a
   * doubling pause from 1 s) and sends it again, up to `throttleRetries` times: a throttled
   * request was not served, so sending it again is safe even for a sampled completion.
   */
  async #post(
    path: string,
    body: unknown,
    tokens: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const text = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      const permit = await this.#limiter.acquire(tokens, signal);
      this.#stats.requests++;
      try {
        const res = await requestJson({
          method: 'POST',
          url: `${this.#base}${path}`,
          body: text,
          headers: this.#headers,
          signal,
        });
        const used = usedTokens(res.body);
        if (used !== undefined) this.#stats.tokens += used;
        permit.done({ tokens: used });
        return res.body;
      } catch (e) {
        const throttled = e instanceof ModelOverloadedError;
        permit.done({
          overloaded: throttled,
          failed: !throttled,
          retryAfterMs: throttled ? (e.retryAfterMs ?? 1000 * 2 ** attempt) : undefined,
        });
        if (!throttled || attempt >= (this.#o.throttleRetries ?? 5)) throw e;
      }
    }
  }
}
