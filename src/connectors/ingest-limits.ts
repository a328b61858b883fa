// What keeps HTTP ingest's memory bounded: a body cap per request (413), a budget of body bytes
// held by all requests at once (429 + Retry-After beyond it), and the reading of bodies
// against both. The pipeline-behind check (503) is in http-ingest.ts.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IngestReply } from './ingest-body.js';

/**
 * Body bytes held by the requests in progress, all together, at most `max`.
 *
 * @example
 * const budget = new InFlightBudget(64 << 20);
 * if (budget.reserve(n)) try { ... } finally { budget.release(n) }
 */
export class InFlightBudget {
  private used = 0;

  constructor(readonly max: number) {}

  /** Bytes held now. */
  get inFlight(): number {
    return this.used;
  }

  /** Takes `n` bytes of the budget and returns true, or returns false (nothing taken) when they do not fit. */
  reserve(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** Writes `r` as the JSON answer (unless an answer was already sent). */
export function reply(res: ServerResponse, r: IngestReply | { status: number; ok: true }): void {
  if (res.headersSent) return;
  const { status, ...body } = r;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

/**
 * Answers before (or instead of) reading the body: the connection is closed after the answer,
 * and what the client still sends is read and dropped (up to `drainBytes`, then the socket is
 * destroyed), so the client reads the answer rather than a reset.
 */
export function answerEarly(
  req: IncomingMessage,
  res: ServerResponse,
  r: IngestReply,
  drainBytes: number,
): void {
  res.setHeader('connection', 'close');
  reply(res, r);
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > drainBytes) req.destroy();
  });
  req.resume();
}

/** 429 with Retry-After: the bodies in progress hold the whole in-flight budget. */
function busy(budget: InFlightBudget, retryAfterSeconds: number): IngestReply {
  return {
    status: 429,
    code: 'SLUICE_INGEST_BUSY',
    error: `the ingest holds ${budget.inFlight} bytes of request bodies already (maxInFlightBytes ${budget.max}); retry after ${retryAfterSeconds} s`,
  };
}

/**
 * The request body, counted against `budget` as it arrives; or null after answering 413 (over
 * `max` bytes) or 429 (the budget is spent). The caller releases `reserved()` bytes when done.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: { maxBodyBytes: number; budget: InFlightBudget; retryAfterSeconds: number },
): { body: Promise<Buffer | null>; reserved: () => number } {
  const { maxBodyBytes: max, budget, retryAfterSeconds } = limits;
  let reserved = 0;
  const body = new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (r: IngestReply) => {
      refused = true;
      chunks.length = 0;
      budget.release(reserved);
      reserved = 0;
      if (r.status === 429) res.setHeader('retry-after', String(retryAfterSeconds));
      answerEarly(req, res, r, 8 * max);
      resolve(null);
    };
    const tooBig = () =>
      refuse({
        status: 413,
        code: 'SLUICE_INGEST_TOO_LARGE',
        error: `request body over ${max} bytes; send smaller batches`,
      });
    const announced = Number(req.headers['content-length'] ?? -1);
    if (announced > max) return tooBig();
    // A body of known length takes its share of the budget at once; others as they arrive.
    if (announced > 0) {
      if (!budget.reserve(announced)) return refuse(busy(budget, retryAfterSeconds));
      reserved = announced;
    }
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > max) return tooBig();
      if (size > reserved) {
        if (!budget.reserve(size - reserved)) return refuse(busy(budget, retryAfterSeconds));
        reserved = size;
      }
      chunks.push(c);
    });
    req.on('end', () => refused || resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
  return { body, reserved: () => reserved };
}
