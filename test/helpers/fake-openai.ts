// A fake OpenAI-compatible server for the LLM tests (node:http on 127.0.0.1, port 0), written
// from the public API reference: GET /v1/models, POST /v1/chat/completions (with
// `response_format: { type: "json_schema" }`), POST /v1/embeddings (string or array `input`).
// It counts tokens the way the tests measure budgets (4 characters a token, prompt and
// completion, returned as `usage`), logs every request with its arrival time, and injects 429s
// with a `Retry-After` (seconds or an HTTP date) on command.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface LoggedRequest {
  /** Arrival, ms (Date.now()). */
  at: number;
  path: string;
  status: number;
  /** Tokens charged (prompt + completion); 0 for a refused request. */
  tokens: number;
  /** Embeddings: how many inputs the request carried. */
  inputs: number;
  body: Record<string, unknown>;
}

/** A 429 to send instead of an answer. */
export interface Throttle {
  /** The `Retry-After` header value: seconds (`'1'`) or an HTTP date; absent = no header. */
  retryAfter?: string;
  status?: number;
}

export interface FakeOpenAI {
  /** Base URL with `/v1`, as `OpenAIModel`'s `baseUrl` takes it. */
  baseUrl: string;
  log: LoggedRequest[];
  /** Requests in flight now, and the most seen at once. */
  inFlight: number;
  maxInFlight: number;
  /** The next requests get these 429s, in order. */
  throttles: Throttle[];
  /** The chat answer's content for a user message; default `{"label":"ok","reason":"<message>"}`. */
  answer: (user: string, body: Record<string, unknown>) => string;
  /** Delay before each answer, ms; default 5. */
  delayMs: number;
  close(): Promise<void>;
}

/** Tokens of a text, as this server counts them (and the tests measure). */
export const countTokens = (text: string): number => Math.ceil(text.length / 4);

/**
 * Starts the fake server. `apiKey`: when set, requests without `Authorization: Bearer <key>` get 401.
 *
 * @example
 * const llm = await startFakeOpenAI({ models: ['chat-small'] });
 * const model = await OpenAIModel.connect({ task: 'chat', model: 'chat-small', baseUrl: llm.baseUrl, ... });
 */
export async function startFakeOpenAI(o: { models?: string[]; apiKey?: string } = {}): Promise<FakeOpenAI> {
  const models = o.models ?? ['chat-small', 'embed-small'];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      handle(req, text, res).catch((err: Error) => send(res, 500, { error: { message: err.message } }));
    });
  });
  const fake: FakeOpenAI = {
    baseUrl: '',
    log: [],
    inFlight: 0,
    maxInFlight: 0,
    throttles: [],
    answer: (user) => JSON.stringify({ label: 'ok', reason: user }),
    delayMs: 5,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  async function handle(req: IncomingMessage, text: string, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    if (o.apiKey !== undefined && req.headers.authorization !== `Bearer ${o.apiKey}`)
      return send(res, 401, {
        error: { message: 'Incorrect API key provided', type: 'invalid_request_error' },
      });
    if (req.method === 'GET' && path === '/v1/models')
      return send(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model' })) });
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const entry: LoggedRequest = { at: Date.now(), path, status: 200, tokens: 0, inputs: 0, body };
    fake.log.push(entry);
    const throttle = fake.throttles.shift();
    if (throttle !== undefined) {
      entry.status = throttle.status ?? 429;
      const headers: Record<string, string> = {};
      if (throttle.retryAfter !== undefined) headers['retry-after'] = throttle.retryAfter;
      return send(res, entry.status, { error: { message: 'Rate limit reached', type: 'requests' } }, headers);
    }
    fake.inFlight++;
    fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
    try {
      await new Promise((r) => setTimeout(r, fake.delayMs));
      if (req.method === 'POST' && path === '/v1/chat/completions') return chat(body, entry, res);
      if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(body, entry, res);
      entry.status = 404;
      send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    } finally {
      fake.inFlight--;
    }
  }

  function chat(body: Record<string, unknown>, entry: LoggedRequest, res: ServerResponse): void {
    const messages = body.messages as { role: string; content: string }[];
    if (!Array.isArray(messages) || !models.includes(String(body.model))) {
      entry.status = 400;
      return send(res, 400, { error: { message: 'messages and a served model are required' } });
    }
    const user = messages
      .filter((m) => m.role === 'user')
      .map((m) => m.content)
      .join('\n');
    const content = fake.answer(user, body);
    const prompt = messages.reduce((n, m) => n + m.content.length, 0);
    const usage = {
      prompt_tokens: Math.ceil(prompt / 4),
      completion_tokens: countTokens(content),
      total_tokens: Math.ceil(prompt / 4) + countTokens(content),
    };
    entry.tokens = usage.total_tokens;
    send(res, 200, {
      id: `chatcmpl-${fake.log.length}`,
      object: 'chat.completion',
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage,
    });
  }

  function embeddings(body: Record<string, unknown>, entry: LoggedRequest, res: ServerResponse): void {
    const input = typeof body.input === 'string' ? [body.input] : (body.input as string[]);
    entry.inputs = input.length;
    const tokens = input.reduce((n, t) => n + countTokens(t), 0);
    entry.tokens = tokens;
    // A vector a test can check: [length, index within the request, 1].
    const data = input.map((t, index) => ({ object: 'embedding', index, embedding: [t.length, index, 1] }));
    send(res, 200, {
      object: 'list',
      data,
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The most of `pick(entry)` summed over entries arriving within any `windowMs` span (a sliding
 * window over the log): what a per-minute budget, scaled to the window, must bound.
 *
 * @example
 * const peak = peakInWindow(fake.log, 1000, (e) => e.tokens);
 */
export function peakInWindow(
  log: readonly LoggedRequest[],
  windowMs: number,
  pick: (e: LoggedRequest) => number,
): number {
  const sorted = [...log].sort((a, b) => a.at - b.at);
  let best = 0;
  let sum = 0;
  let lo = 0;
  for (const e of sorted) {
    sum += pick(e);
    while (e.at - sorted[lo]!.at >= windowMs) sum -= pick(sorted[lo++]!);
    best = Math.max(best, sum);
  }
  return best;
}
