// A fake Triton Inference Server (HTTP/REST, node:http on 127.0.0.1, port 0). Triton itself
// cannot run here, so this speaks the protocol as Triton's published docs give it
// (triton-inference-server/server docs/protocol: the KServe v2 predict protocol, the binary
// tensor data extension, the schedule policy extension), decoding the client's bytes by itself
// (no code shared with the client under test):
//   GET  /v2                          server metadata with its `extensions`
//   GET  /v2/health/ready             200, or 503 when `serverReady` is false
//   GET  /v2/models/{m}[/ready]       metadata; ready 200, or 400 when the model is not ready
//   POST /v2/models/{m}/infer         JSON or binary (Inference-Header-Content-Length) both ways
// Models: "sum" (INPUT0 FP32 [-1,-1] → SUM FP32 [-1,1] row sums, DOUBLE FP32 [-1,-1]) and
// "echo" (TEXT BYTES [-1] → UPPER BYTES [-1], LENGTH INT64 [-1] byte lengths).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One inference request as the fake saw it. */
export interface TritonRequest {
  model: string;
  contentType: string | undefined;
  /** The `Inference-Header-Content-Length` header, when sent. */
  headerLength: number | undefined;
  contentLength: number;
  /** The JSON part. */
  json: {
    inputs: {
      name: string;
      shape: number[];
      datatype: string;
      data?: unknown[];
      parameters?: Record<string, unknown>;
    }[];
    outputs?: { name: string; parameters?: Record<string, unknown> }[];
    parameters?: Record<string, unknown>;
  };
  /** The bytes after the JSON part. */
  binary: Buffer;
  /** Whether the answer went as binary data. */
  binaryAnswer: boolean;
}

export interface FakeTriton {
  url: string;
  requests: TritonRequest[];
  serverReady: boolean;
  notReady: Set<string>;
  /** Listed by `GET /v2`; default binary_tensor_data and schedule_policy. */
  extensions: string[];
  close(): Promise<void>;
}

const METADATA: Record<string, unknown> = {
  sum: {
    name: 'sum',
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, -1] }],
    outputs: [
      { name: 'SUM', datatype: 'FP32', shape: [-1, 1] },
      { name: 'DOUBLE', datatype: 'FP32', shape: [-1, -1] },
    ],
  },
  echo: {
    name: 'echo',
    versions: ['1'],
    platform: 'python',
    inputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'UPPER', datatype: 'BYTES', shape: [-1] },
      { name: 'LENGTH', datatype: 'INT64', shape: [-1] },
    ],
  },
};

type Out = { name: string; datatype: string; shape: number[]; values: number[] | bigint[] | string[] };

/**
 * Starts the fake.
 *
 * @example
 * const triton = await startFakeTriton();
 * const model = await KServeModel.connect({ url: triton.url, model: 'sum' });
 */
export async function startFakeTriton(): Promise<FakeTriton> {
  const fake: FakeTriton = {
    url: '',
    requests: [],
    serverReady: true,
    notReady: new Set(),
    extensions: ['binary_tensor_data', 'schedule_policy'],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        route(req, Buffer.concat(chunks), res);
      } catch (e) {
        sendJson(res, 400, { error: (e as Error).message });
      }
    });
  });

  function route(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = req.url ?? '';
    if (url === '/v2')
      return sendJson(res, 200, { name: 'triton', version: '2.50.0', extensions: fake.extensions });
    if (url === '/v2/health/ready')
      return fake.serverReady ? sendJson(res, 200, {}) : sendJson(res, 503, { error: 'Server not ready' });
    const m = /^\/v2\/models\/([^/]+)(\/ready|\/infer)?$/.exec(url);
    if (m === null || METADATA[m[1]!] === undefined)
      return sendJson(res, 404, { error: `Request for unknown model: '${m?.[1] ?? url}' is not found` });
    const model = m[1]!;
    if (m[2] === '/ready')
      return fake.notReady.has(model)
        ? sendJson(res, 400, { error: `Request for unknown model: '${model}' has no available versions` })
        : sendJson(res, 200, {});
    if (m[2] === undefined) return sendJson(res, 200, METADATA[model]);
    infer(model, req, body, res);
  }

  function infer(model: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const hl = req.headers['inference-header-content-length'];
    const headerLength = hl === undefined ? undefined : Number(hl);
    const json = JSON.parse(
      body.subarray(0, headerLength ?? body.length).toString('utf8'),
    ) as TritonRequest['json'];
    const binary = body.subarray(headerLength ?? body.length);
    const wantBinary =
      json.parameters?.binary_data_output === true ||
      (json.outputs ?? []).some((o) => o.parameters?.binary_data === true);
    fake.requests.push({
      model,
      contentType: req.headers['content-type'],
      headerLength,
      contentLength: Number(req.headers['content-length']),
      json,
      binary: Buffer.from(binary),
      binaryAnswer: wantBinary,
    });
    // Inputs: binary ones take their bytes from the binary section, in order.
    let at = 0;
    const values: Record<string, { shape: number[]; data: unknown[] }> = {};
    for (const input of json.inputs) {
      const size = input.parameters?.binary_data_size;
      if (typeof size === 'number') {
        values[input.name] = {
          shape: input.shape,
          data: fromBytes(input.datatype, binary.subarray(at, at + size)),
        };
        at += size;
      } else values[input.name] = { shape: input.shape, data: (input.data ?? []).flat(Infinity) };
    }
    if (at !== binary.length)
      throw new Error(`binary section has ${binary.length} bytes, inputs declare ${at}`);
    const outs: Out[] = [];
    if (model === 'sum') {
      const x = values.INPUT0!;
      const [n, w] = x.shape as [number, number];
      const data = x.data as number[];
      const sums = Array.from({ length: n }, (_v, i) =>
        data.slice(i * w, (i + 1) * w).reduce((a, b) => a + b, 0),
      );
      outs.push({ name: 'SUM', datatype: 'FP32', shape: [n, 1], values: sums });
      outs.push({ name: 'DOUBLE', datatype: 'FP32', shape: [n, w], values: data.map((v) => v * 2) });
    } else {
      const texts = values.TEXT!.data as string[];
      outs.push({
        name: 'UPPER',
        datatype: 'BYTES',
        shape: [texts.length],
        values: texts.map((t) => t.toUpperCase()),
      });
      outs.push({
        name: 'LENGTH',
        datatype: 'INT64',
        shape: [texts.length],
        values: texts.map((t) => BigInt(Buffer.byteLength(t))),
      });
    }
    const wanted = (json.outputs ?? []).map((o) => o.name);
    const chosen = wanted.length > 0 ? outs.filter((o) => wanted.includes(o.name)) : outs;
    if (!wantBinary)
      return sendJson(res, 200, {
        model_name: model,
        outputs: chosen.map((o) => ({
          name: o.name,
          datatype: o.datatype,
          shape: o.shape,
          data: o.values.map((v) => (typeof v === 'bigint' ? Number(v) : v)),
        })),
      });
    const parts = chosen.map((o) => toBytes(o));
    const header = Buffer.from(
      JSON.stringify({
        model_name: model,
        outputs: chosen.map((o, i) => ({
          name: o.name,
          datatype: o.datatype,
          shape: o.shape,
          parameters: { binary_data_size: parts[i]!.length },
        })),
      }),
    );
    const all = Buffer.concat([header, ...parts]);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
      'content-length': String(all.length),
    });
    res.end(all);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** Decodes an input's bytes (little-endian; BYTES length-prefixed). */
export function fromBytes(datatype: string, b: Buffer): unknown[] {
  const out: unknown[] = [];
  if (datatype === 'FP32') for (let i = 0; i < b.length; i += 4) out.push(b.readFloatLE(i));
  else if (datatype === 'INT64') for (let i = 0; i < b.length; i += 8) out.push(b.readBigInt64LE(i));
  else if (datatype === 'BYTES')
    for (let i = 0; i < b.length;) {
      const len = b.readUInt32LE(i);
      out.push(b.toString('utf8', i + 4, i + 4 + len));
      i += 4 + len;
    }
  else throw new Error(`fake Triton reads no ${datatype}`);
  return out;
}

function toBytes(o: Out): Buffer {
  if (o.datatype === 'FP32') {
    const b = Buffer.alloc(o.values.length * 4);
    (o.values as number[]).forEach((v, i) => b.writeFloatLE(v, i * 4));
    return b;
  }
  if (o.datatype === 'INT64') {
    const b = Buffer.alloc(o.values.length * 8);
    (o.values as bigint[]).forEach((v, i) => b.writeBigInt64LE(v, i * 8));
    return b;
  }
  return Buffer.concat(
    (o.values as string[]).flatMap((s) => {
      const bytes = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length);
      return [len, bytes];
    }),
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
