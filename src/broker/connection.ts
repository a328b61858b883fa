// One client connection: frames in, requests decoded and handled as they arrive, responses
// written strictly in request order (a long-polling Fetch holds back the responses after it,
// as Kafka clients expect). Anything malformed closes this connection only, with a warning.

import type { Socket } from 'node:net';
import { NO_RESPONSE, type Api, type BrokerState, type ConnectionInfo, type SaslStage } from './apis/api.js';
import { unsupportedApiVersionsFrame } from './apis/api-versions.js';
import { FrameDecoder } from './protocol/framing.js';
import { Reader } from './protocol/reader.js';
import { Writer } from './protocol/writer.js';
import { saslStep } from './sasl.js';
import type { ScramExchange } from './scram.js';

const API_VERSIONS = 18;
/** Requests in flight on one connection before the broker stops reading from it. */
const MAX_IN_FLIGHT = 1024;
/** Unsent response bytes on one connection before the broker stops reading from it. */
const MAX_UNSENT = 16 * 1024 * 1024;

interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
  closeAfter: boolean;
}

/**
 * A client connection to the broker.
 *
 * @example
 * server.on('connection', (socket) => new Connection(socket, 1, state, apiTable(false)));
 */
export class Connection implements ConnectionInfo {
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly localPort: number;
  sasl: SaslStage = 'none';
  saslMechanism: string | null = null;
  scram: ScramExchange | null = null;
  user: string | null = null;
  private readonly frames: FrameDecoder;
  private readonly queue: Slot[] = [];
  private readonly closeListeners = new Set<() => void>();
  private current: Slot | null = null;
  private ending = false;
  private isClosed = false;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly broker: BrokerState,
    private readonly apis: Map<number, Api>,
  ) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.localAddress = socket.localAddress ?? '127.0.0.1';
    this.localPort = socket.localPort ?? 0;
    this.frames = new FrameDecoder(broker.opts.maxRequestBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.resumeIfRoom());
    socket.on('error', () => this.destroy()); // resets and timeouts: nothing to answer
    socket.on('close', () => this.onSocketClosed());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(fn: () => void): () => void {
    if (this.isClosed) {
      queueMicrotask(fn);
      return () => {};
    }
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  closeAfterResponse(): void {
    if (this.current !== null) this.current.closeAfter = true;
  }

  /** Closes the connection now, dropping unsent responses. */
  destroy(): void {
    this.socket.destroy();
    this.onSocketClosed();
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed || this.ending) return;
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      return this.refuse((err as Error).message);
    }
    for (const frame of frames) {
      if (this.isClosed || this.ending) return;
      this.onFrame(frame);
    }
    if (this.queue.length >= MAX_IN_FLIGHT) this.pause();
  }

  private onFrame(frame: Buffer): void {
    if (this.sasl === 'handshaken-v0') return this.onRawSaslToken(frame);
    const r = new Reader(frame);
    if (frame.length < 8)
      return this.refuse(`a ${frame.length}-byte frame is too short for a request header`);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    const api = this.apis.get(apiKey);
    if (api === undefined) return this.refuse(`unknown or unsupported API key ${apiKey}`);
    if (version < api.minVersion || version > api.maxVersion) {
      // Clients probe ApiVersions with their newest version and fall back on error 35.
      if (apiKey === API_VERSIONS)
        return this.enqueueReady(unsupportedApiVersionsFrame(correlationId, this.broker.apiRanges));
      return this.refuse(
        `${api.name} v${version} is not supported (v${api.minVersion}-${api.maxVersion} are)`,
      );
    }
    if (this.broker.opts.sasl !== null && this.sasl !== 'authenticated' && !api.beforeAuth) {
      return this.refuse(`${api.name} before SASL authentication`);
    }
    let clientId: string | null;
    let body: unknown;
    try {
      clientId = r.string(true);
      if (api.request.isFlexible(version)) r.skipTaggedFields();
      body = api.request.decode(r, version);
    } catch (err) {
      return this.refuse(`malformed ${api.name} v${version}: ${(err as Error).message}`);
    }
    const slot: Slot = { done: false, chunks: null, closeAfter: false };
    this.queue.push(slot);
    this.current = slot;
    let result: unknown;
    try {
      result = api.handle(body, { broker: this.broker, conn: this, apiVersion: version, clientId });
    } catch (err) {
      return this.internalError(api, err);
    } finally {
      this.current = null;
    }
    if (result instanceof Promise) {
      result.then(
        (res: unknown) => this.complete(slot, api, version, correlationId, res),
        (err: unknown) => this.internalError(api, err),
      );
    } else this.complete(slot, api, version, correlationId, result);
  }

  /** A SASL message sent as a bare frame after SaslHandshake v0 (kafka-python 2.0 does this). */
  private onRawSaslToken(frame: Buffer): void {
    const step = saslStep(this, this.broker, frame);
    if (!step.ok) {
      this.broker.warn(
        `sluice broker: SASL/${this.saslMechanism} authentication failed from ${this.remoteAddress} (${step.reason})`,
      );
      return this.destroy();
    }
    // The answer goes back as a bare frame too (empty for PLAIN: "authenticated").
    const size = Buffer.alloc(4);
    size.writeInt32BE(step.reply.length, 0);
    this.enqueueReady(step.reply.length > 0 ? [size, step.reply] : [size]);
  }

  private complete(slot: Slot, api: Api, version: number, correlationId: number, res: unknown): void {
    if (this.isClosed) return;
    if (res !== NO_RESPONSE) {
      try {
        const w = new Writer().int32(0).int32(correlationId);
        // Flexible responses use header v1 (tagged fields), except ApiVersions: always v0.
        if (api.key !== API_VERSIONS && api.response.isFlexible(version)) w.emptyTaggedFields();
        api.response.encode(w, version, res as object);
        const chunks = w.chunks();
        chunks[0].writeInt32BE(w.length - 4, 0);
        slot.chunks = chunks;
      } catch (err) {
        return this.internalError(api, err);
      }
    }
    slot.done = true;
    this.flush();
  }

  private enqueueReady(chunks: Buffer[]): void {
    this.queue.push({ done: true, chunks, closeAfter: false });
    this.flush();
  }

  private flush(): void {
    let corked = false;
    while (this.queue.length > 0 && this.queue[0].done && !this.isClosed) {
      const slot = this.queue.shift()!;
      if (slot.chunks !== null) {
        if (!corked) this.socket.cork();
        corked = true;
        for (const c of slot.chunks) this.socket.write(c);
      }
      if (slot.closeAfter) {
        this.ending = true;
        this.queue.length = 0;
        break;
      }
    }
    if (corked) this.socket.uncork();
    if (this.ending) this.socket.end();
    else this.resumeIfRoom();
  }

  private pause(): void {
    if (!this.paused) this.socket.pause();
    this.paused = true;
  }

  private resumeIfRoom(): void {
    if (this.socket.writableLength > MAX_UNSENT || this.queue.length >= MAX_IN_FLIGHT) return this.pause();
    if (this.paused && !this.isClosed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private refuse(reason: string): void {
    this.broker.warn(`sluice broker: closing connection ${this.remoteAddress}: ${reason}`);
    this.destroy();
  }

  private internalError(api: Api, err: unknown): void {
    this.broker.warn(
      `sluice broker: internal error handling ${api.name} from ${this.remoteAddress}, closing it: ${(err as Error)?.stack ?? String(err)}`,
    );
    this.destroy();
  }

  private onSocketClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.queue.length = 0;
    for (const fn of [...this.closeListeners]) fn();
    this.closeListeners.clear();
  }
}
