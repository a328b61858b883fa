// Real HTTP servers for the runner tests (node:http on 127.0.0.1, port 0): one speaking KServe
// v2 (Open Inference Protocol), one speaking the OpenAI API; both slow or failing on command.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the next inference request gets: an answer, after an optional delay, or an HTTP error. */
export type Behavior = {
  delayMs?: number;
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Drop the connection without an answer. */
  drop?: boolean;
};

export interface TestServer {
  url: string;
  /** Inference requests received (after routing). */
  requests: number;
  /** Requests whose client went away before the answer. */
  aborted: number;
  /** Behaviors for the next requests, in order; then `fallbackBehavior`. */
  script: Behavior[];
  fallbackBehavior: Behavior;
  close(): Promise<void>;
}

async function listen(
  handle: (req: IncomingMessage, body: string, res: ServerResponse, s: TestServer) => Promise<void>,
): Promise<TestServer> {
  const state = { requests: 0, aborted: 0, script: [] as Behavior[], fallbackBehavior: {} as Behavior };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      res.on('close', () => {
        if (!res.writableFinished) state.aborted++;
      });
      handle(req, body, res, s).catch((err: Error) => {
        if (!res.headersSent) send(res, 500, { error: err.message });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: TestServer = Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return s;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Applies the next scripted behavior; returns false when it already answered (an error). */
async function behave(s: TestServer, res: ServerResponse): Promise<boolean> {
  const b = s.script.shift() ?? s.fallbackBehavior;
  if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
  if (b.drop) {
    res.socket?.destroy();
    return false;
  }
  if (b.status !== undefined && b.status !== 200) {
    send(res, b.status, b.body ?? { error: `scripted HTTP ${b.status}` }, b.headers);
    return false;
  }
  return true;
}

/**
 * KServe v2 for model `name` (versions "1" and "2"): input "features" FP32 [-1, width],
 * output "score" FP32 [-1, 1] = the row's sum (+1000 for version 2).
 */
export function startKServeServer(name = 'fraud', width = 3): Promise<TestServer> {
  const metadata = (version: string) => ({
    name,
    versions: ['1', '2'],
    platform: 'sluice-test',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, width] }],
    outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
    version,
  });
  return listen(async (req, body, res, s) => {
    const url = req.url ?? '';
    if (url === '/v2/health/live' || url === '/v2/health/ready') return send(res, 200, {});
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(url);
    if (m === null || m[1] !== name || (m[2] !== undefined && !['1', '2'].includes(m[2])))
      return send(res, 404, { error: `unknown model path ${url}` });
    const version = m[2] ?? '2';
    if (m[3] === '/ready') return send(res, 200, {});
    if (m[3] === undefined) return send(res, 200, metadata(version));
    s.requests++;
    if (!(await behave(s, res))) return;
    const request = JSON.parse(body) as {
      id: string;
      inputs: { name: string; shape: number[]; data: number[] }[];
    };
    const x = request.inputs.find((i) => i.name === 'features');
    if (x === undefined || x.shape[1] !== width) return send(res, 400, { error: 'bad input "features"' });
    const n = x.shape[0]!;
    const flat = x.data.flat(Infinity as 1) as number[];
    const scores = Array.from({ length: n }, (_, i) => {
      let sum = version === '2' ? 1000 : 0;
      for (let j = 0; j < width; j++) sum += flat[i * width + j]!;
      return sum;
    });
    send(res, 200, {
      model_name: name,
      model_version: version,
      id: request.id,
      outputs: [{ name: 'score', datatype: 'FP32', shape: [n, 1], data: scores }],
    });
  });
}

/**
 * OpenAI-compatible: `GET /v1/models`, `POST /v1/embeddings` (vector [length, count of "a",
 * 1]) and `POST /v1/chat/completions` (JSON answer "fraud" for messages mentioning a refund,
 * prose "legit" otherwise). Requires `Authorization: Bearer <key>`.
 */
export function startOpenAIServer(key = 'test-key'): Promise<TestServer> {
  return listen(async (req, body, res, s) => {
    if (req.headers.authorization !== `Bearer ${key}`)
      return send(res, 401, {
        error: { message: 'Incorrect API key provided', type: 'invalid_request_error' },
      });
    if (req.method === 'GET' && req.url === '/v1/models')
      return send(res, 200, { object: 'list', data: [{ id: 'emb-small' }, { id: 'chat-small' }] });
    s.requests++;
    if (!(await behave(s, res))) return;
    const b = JSON.parse(body) as { input?: string[]; messages?: { role: string; content: string }[] };
    if (req.url === '/v1/embeddings') {
      const data = (b.input ?? []).map((t, index) => ({
        object: 'embedding',
        index,
        embedding: [t.length, t.split('a').length - 1, 1],
      }));
      return send(res, 200, { object: 'list', data: data.reverse(), model: 'emb-small' });
    }
    if (req.url === '/v1/chat/completions') {
      const user = b.messages?.find((m) => m.role === 'user')?.content ?? '';
      const content = /refund/i.test(user)
        ? '```json\n{"label": "fraud", "score": 0.91}\n```'
        : 'This message looks legit to me, confidence 0.8.';
      return send(res, 200, {
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      });
    }
    send(res, 404, { error: { message: `no route ${req.url}` } });
  });
}
