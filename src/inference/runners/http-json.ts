// One JSON-over-HTTP exchange with a model server, with its failures mapped to inference errors.
import {
  InferenceAbortedError,
  ModelOverloadedError,
  ProtocolError,
  RemoteModelError,
} from '../serving-errors.js';
import { redactUrls } from '../../core/redact.js';
import { HEADER_LENGTH, splitBody } from './kserve-binary.js';

/**
 * One HTTP request to a model server.
 *
 * @example
 * const req: JsonRequest = { method: 'POST', url: `${base}/v2/models/fraud/infer`, body: json };
 */
export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  /**
   * Already serialized JSON (callers build large tensors as strings, faster than objects), or a
   * binary-extension body (JSON header then tensor bytes) with its `headerLength`.
   */
  body?: string | Uint8Array;
  /** Length of the JSON header of a binary body: sent as `Inference-Header-Content-Length`. */
  headerLength?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Statuses worth retrying: the request timed out or a proxy lost the upstream. */
const RETRYABLE_STATUS = new Set([408, 502, 504]);

/**
 * Sends a request and parses a JSON answer. Maps failures to inference errors: HTTP 503 and
 * 429 → `ModelOverloadedError` (shed load: back off), no answer → `RemoteModelError` status 0
 * (retryable), other non-2xx → `RemoteModelError` with the server's message, a 2xx body that is
 * not JSON → `ProtocolError`, an aborted signal → `InferenceAbortedError`.
 *
 * @example
 * const { status, body } = await requestJson({ method: 'GET', url: `${base}/v2/models/fraud` });
 */
export async function requestJson(
  req: JsonRequest,
): Promise<{ status: number; body: unknown; binary?: Uint8Array }> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (req.headerLength !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    headers[HEADER_LENGTH] = String(req.headerLength);
  } else if (req.body !== undefined) headers['content-type'] = 'application/json';
  const shown = redactUrls(req.url); // messages never carry a URL's password
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers, body: req.body, signal: req.signal });
  } catch (cause) {
    if (req.signal?.aborted === true)
      throw new InferenceAbortedError(`request to ${shown} was aborted`, { cause: req.signal.reason });
    throw new RemoteModelError(
      `could not reach the model server at ${shown}: ${describe(cause)}; check that it is running`,
      0,
      { cause, retryable: true },
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (cause) {
    if (req.signal?.aborted === true)
      throw new InferenceAbortedError(`request to ${shown} was aborted`, { cause: req.signal.reason });
    throw new RemoteModelError(`the answer from ${shown} broke off: ${describe(cause)}`, res.status, {
      cause,
      retryable: true,
    });
  }
  // A binary-extension answer: the JSON header, then the outputs' bytes.
  const headerLength = res.headers.get(HEADER_LENGTH);
  if (headerLength !== null && res.status >= 200 && res.status < 300) {
    const { json, binary } = splitBody(bytes, Number(headerLength));
    return { status: res.status, body: json, binary };
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (res.status === 503 || res.status === 429) {
    throw new ModelOverloadedError(
      `the model server at ${shown} shed the request (HTTP ${res.status}: ${serverMessage(text)}); back off and retry`,
      res.status,
      parseRetryAfter(res.headers.get('retry-after')),
    );
  }
  if (res.status < 200 || res.status >= 300) {
    throw new RemoteModelError(
      `the model server at ${shown} answered HTTP ${res.status}: ${serverMessage(text)}`,
      res.status,
      { retryable: RETRYABLE_STATUS.has(res.status) },
    );
  }
  try {
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  } catch (cause) {
    throw new ProtocolError(
      `the model server at ${shown} answered with invalid JSON: ${text.slice(0, 120)}`,
      {
        cause,
      },
    );
  }
}

/**
 * A `Retry-After` header in milliseconds from now: delay-seconds (`120`, fractions allowed) or
 * an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, RFC 9110 §10.2.3); undefined when absent or
 * unreadable. A date in the past is 0.
 *
 * @example
 * parseRetryAfter('2'); // 2000
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** The server's error text: KServe `{"error": "..."}`, OpenAI `{"error": {"message": "..."}}`, or the body. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: string | { message?: string } };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: show the raw text
  }
  return text.slice(0, 200) || '(empty body)';
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return redactUrls(cause?.code ?? cause?.message ?? err.message); // fetch quotes the URL
}
