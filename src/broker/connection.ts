// One client connection: frames in, requests decoded and handled as they arrive, responses
// written strictly in request order (a long-polling Fetch holds back the responses after it,
// as Kafka clients expect). Anything malformed closes this connection only, with a warning.
// Guards against a client that would exhaust the broker: every frame's size is checked on its
// 4-byte prefix before any of it is buffered (a small cap until SASL authentication, when on);
// a request must arrive whole within requestReceiveTimeoutMs; an idle connection is closed;
// authentication attempts go through the broker's AuthThrottle (limits.ts).

import type { Socket } from 'node:net';
import { NO_RESPONSE, type Api, type BrokerState, type ConnectionInfo, type SaslStage } from './apis/api.js';
import { unsupportedApiVersionsFrame } from './apis/api-versions.js';
import { clientAddress, type AuthThrottle } from './limits.js';
import { FrameDecoder } from './protocol/framing.js';
import { Reader } from './protocol/reader.js';
import { Writer } from './protocol/writer.js';
import { saslStep } from './sasl.js';
import type { ScramExchange } from './scram.js';

const API_VERSIONS = 18;
const SASL_AUTHENTICATE = 36;
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
  /** An authentication attempt is waiting its turn: no further frame is handled until it is done. */
  private holding = false;
  /** Closes the connection when the frame being received is not whole in time. */
  private receiveTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly broker: BrokerState,
    private readonly apis: Map<number, Api>,
    private readonly authThrottle?: AuthThrottle,
  ) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.localAddress = socket.localAddress ?? '127.0.0.1';
    this.localPort = socket.localPort ?? 0;
    const opts = broker.opts;
    this.frames =
      opts.sasl === null
        ? new FrameDecoder(opts.maxRequestBytes)
        : new FrameDecoder(
            opts.maxUnauthenticatedRequestBytes,
            'maxUnauthenticatedRequestBytes, until SASL authentication',
          );
    if (opts.sasl !== null) {
      this.authTimer = setTimeout(
        () => this.refuse(`not authenticated within ${opts.authTimeoutMs} ms (authTimeoutMs)`),
        opts.authTimeoutMs,
      );
      this.authTimer.unref();
    }
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs > 0) socket.setTimeout(opts.idleTimeoutMs, () => this.onIdle());
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
    this.frames.add(chunk);
    this.handleFrames();
  }

  /** Handles the whole frames received, then watches the partial one (if any) for completion. */
  private handleFrames(): void {
    let handled = false;
    while (!this.isClosed && !this.ending && !this.holding) {
      let frame: Buffer | null;
      try {
        frame = this.frames.next();
      } catch (err) {
        return this.refuse((err as Error).message);
      }
      if (frame === null) break;
      handled = true;
      this.onFrame(frame);
    }
    if (this.isClosed) return;
    if (handled) this.stopReceiveTimer();
    this.watchReceive();
    if (this.queue.length >= MAX_IN_FLIGHT) this.pause();
  }

  // A half-sent request must not hold the connection (and its buffered bytes) forever. Only
  // while reading: when the broker itself stopped reading, the client cannot finish.
  private watchReceive(): void {
    if (this.frames.pending === 0 || this.paused || this.holding || this.receiveTimer !== null) return;
    const ms = this.broker.opts.requestReceiveTimeoutMs;
    this.receiveTimer = setTimeout(
      () => this.refuse(`a request was not received whole within ${ms} ms (requestReceiveTimeoutMs)`),
      ms,
    );
    this.receiveTimer.unref();
  }

  private stopReceiveTimer(): void {
    if (this.receiveTimer !== null) clearTimeout(this.receiveTimer);
    this.receiveTimer = null;
  }

  // Nothing read or written for idleTimeoutMs: closed, unless a response is still being worked
  // on (a long-polling Fetch, an authentication waiting its turn), which re-arms the timer.
  private onIdle(): void {
    if (this.isClosed) return;
    if (this.queue.length > 0 || this.holding) {
      this.socket.setTimeout(this.broker.opts.idleTimeoutMs);
      return;
    }
    this.destroy();
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
    const call = (): unknown => {
      this.current = slot;
      try {
        return api.handle(body, { broker: this.broker, conn: this, apiVersion: version, clientId });
      } finally {
        this.current = null;
      }
    };
    let result: unknown;
    try {
      result = apiKey === SASL_AUTHENTICATE ? this.authenticate(call) : call();
    } catch (err) {
      return this.internalError(api, err);
    }
    if (result instanceof Promise) {
      result.then(
        (res: unknown) => this.complete(slot, api, version, correlationId, res),
        (err: unknown) => this.internalError(api, err),
      );
    } else this.complete(slot, api, version, correlationId, result);
  }

  /**
   * Runs an authentication attempt through the broker's throttle (now, or when this address's
   * turn comes after failures), holding every later frame of this connection until it is done.
   */
  private authenticate<T>(verify: () => T): T | Promise<T> {
    const onDone = () => {
      this.holding = false;
      if (this.sasl === 'authenticated') {
        if (this.authTimer !== null) clearTimeout(this.authTimer);
        this.frames.setLimit(this.broker.opts.maxRequestBytes, 'maxRequestBytes');
      }
    };
    if (this.authThrottle === undefined) {
      const result = verify();
      onDone();
      return result;
    }
    const address = clientAddress(this.socket.remoteAddress);
    // An attempt whose connection closed while it waited is not verified: it neither counts as
    // a failure nor delays the attempts queued behind it.
    const result = this.authThrottle.attempt(
      address,
      () => (this.isClosed ? undefined : verify()),
      // A failure: not authenticated, and not half way through a SCRAM exchange either.
      () => !this.isClosed && this.sasl !== 'authenticated' && this.scram?.expectsFinal !== true,
    ) as T | Promise<T>;
    if (!(result instanceof Promise)) {
      onDone();
      return result;
    }
    this.holding = true;
    this.pause();
    return result.finally(() => {
      onDone();
      if (this.isClosed || this.ending) return;
      this.resumeIfRoom();
      this.handleFrames();
    });
  }

  /** A SASL message sent as a bare frame after SaslHandshake v0 (kafka-python 2.0 does this). */
  private onRawSaslToken(frame: Buffer): void {
    const answer = (step: ReturnType<typeof saslStep> | undefined) => {
      if (this.isClosed || step === undefined) return;
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
    };
    const result = this.authenticate(() => saslStep(this, this.broker, frame));
    if (result instanceof Promise) result.then(answer, () => this.destroy());
    else answer(result);
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
    this.stopReceiveTimer();
  }

  private resumeIfRoom(): void {
    if (this.socket.writableLength > MAX_UNSENT || this.queue.length >= MAX_IN_FLIGHT || this.holding)
      return this.pause();
    if (this.paused && !this.isClosed) {
      this.paused = false;
      this.socket.resume();
      this.watchReceive();
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
    this.stopReceiveTimer();
    if (this.authTimer !== null) clearTimeout(this.authTimer);
    for (const fn of [...this.closeListeners]) fn();
    this.closeListeners.clear();
  }
}
