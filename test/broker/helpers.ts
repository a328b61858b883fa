// Helpers of the broker tests: a broker on a temp dir and an ephemeral port, and a minimal
// raw Kafka client that speaks through the broker's own API specs (request encoders, response
// decoders), for protocol-level assertions real clients do not expose.

import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ALL_APIS } from '../../src/broker/apis/registry.js';
import { startBroker, type BrokerOptions, type RunningBroker } from '../../src/broker/index.js';
import { FrameDecoder } from '../../src/broker/protocol/framing.js';
import { Reader } from '../../src/broker/protocol/reader.js';
import { Writer } from '../../src/broker/protocol/writer.js';

// Decoded protocol messages are dynamic JSON-like trees; tests read them field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = any;

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Runs `fn` when the test ends, last registered first (node:test runs its own after hooks
 * first registered first, which would remove a directory before the broker using it closes).
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (stack === undefined) {
    const fns: (() => unknown)[] = [];
    cleanups.set(t, fns);
    t.after(async () => {
      for (const f of fns.reverse()) await f();
    });
    stack = fns;
  }
  stack.push(fn);
}

/** A fresh directory removed when the test ends, after everything deferred later. */
export function tempDir(t: TestContext, prefix = 'sluice-broker-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A broker on an ephemeral port and a temp data dir, closed when the test ends. Warnings are collected. */
export async function testBroker(
  t: TestContext,
  opts: Partial<BrokerOptions> = {},
): Promise<RunningBroker & { warnings: string[] }> {
  const warnings: string[] = [];
  const broker = await startBroker({
    port: 0,
    ...(opts.log ? {} : { dataDir: tempDir(t), fsync: 'never' as const }),
    onWarning: (m) => warnings.push(m),
    ...opts,
  });
  defer(t, () => broker.close());
  return Object.assign(broker, { warnings });
}

const API_VERSIONS = 18;

/**
 * A tiny pipelining Kafka client: `send` encodes a request with the broker's request spec and
 * resolves with the response decoded by its response spec.
 *
 * @example
 * const c = await RawClient.connect(broker.port);
 * const md = await c.send(3, 9, { topics: null, allowAutoTopicCreation: false });
 */
export class RawClient {
  private correlation = 0;
  private readonly waiting = new Map<
    number,
    { key: number; version: number; resolve: (m: Msg) => void; reject: (e: Error) => void }
  >();
  private readonly order: number[] = [];
  private readonly frames = new FrameDecoder(1 << 30);
  /** Correlation ids in the order responses arrived. */
  readonly arrivals: number[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.frames.push(chunk)) this.onFrame(frame);
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(new Error('connection closed before the response'));
      this.waiting.clear();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Encodes and sends a request; resolves with the decoded response body (and its correlation id as `_cid`). */
  send(apiKey: number, version: number, body: object, clientId: string | null = 'raw-test'): Promise<Msg> {
    const cid = this.write(apiKey, version, body, clientId);
    return new Promise((resolve, reject) => this.waiting.set(cid, { key: apiKey, version, resolve, reject }));
  }

  /** Sends a request that gets no response (Produce acks=0); returns its correlation id. */
  sendOnly(apiKey: number, version: number, body: object): number {
    return this.write(apiKey, version, body, 'raw-test');
  }

  /** Sends bytes as they are. */
  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves when the broker closes the connection (or after `ms`, with false). */
  waitClosed(ms = 5000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private write(apiKey: number, version: number, body: object, clientId: string | null): number {
    const api = ALL_APIS.find((a) => a.key === apiKey);
    if (!api) throw new Error(`no spec for api ${apiKey}`);
    const cid = ++this.correlation;
    const w = new Writer().int32(0).int16(apiKey).int16(version).int32(cid).string(clientId);
    if (api.request.isFlexible(version)) w.emptyTaggedFields();
    api.request.encode(w, version, body);
    const buf = w.toBuffer();
    buf.writeInt32BE(buf.length - 4, 0);
    this.order.push(cid);
    this.socket.write(buf);
    return cid;
  }

  private onFrame(frame: Buffer): void {
    const r = new Reader(frame);
    const cid = r.int32();
    this.arrivals.push(cid);
    const w = this.waiting.get(cid);
    if (!w) return;
    this.waiting.delete(cid);
    const api = ALL_APIS.find((a) => a.key === w.key)!;
    if (w.key !== API_VERSIONS && api.response.isFlexible(w.version)) r.skipTaggedFields();
    // An ApiVersions error 35 answer has a v0 body whatever version was asked.
    const version = w.key === API_VERSIONS && frame.readInt16BE(4) === 35 ? 0 : w.version;
    const body = api.response.decode(r, version);
    w.resolve({ ...body, _cid: cid, _rest: r.remaining });
  }
}

/** Resolves when `check` returns true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
