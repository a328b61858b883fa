// The W3C `traceparent` as sources find it on records (Kafka and log headers, HTTP request
// headers, MQTT 5 user properties): kept only when valid, so a malformed one starts a new trace.

import { parseTraceparent } from '../observe/index.js';
import type { RecordHeader } from '../log/index.js';

/** The header (and MQTT user property) name of W3C Trace Context. */
export const TRACEPARENT_HEADER = 'traceparent';

/** A valid `traceparent` value, else undefined. */
export function validTraceparent(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && parseTraceparent(v) !== undefined ? v : undefined;
}

/** The `traceparent` among a log record's headers. */
export function traceparentOfHeaders(headers: readonly RecordHeader[]): string | undefined {
  for (const h of headers)
    if (h.key === TRACEPARENT_HEADER) return validTraceparent(h.value?.toString('latin1'));
  return undefined;
}

/** The `traceparent` among a Kafka record's headers (as the fetcher returns them). */
export function traceparentOfKafkaHeaders(
  headers: readonly [Buffer | null, Buffer | null][],
): string | undefined {
  for (const [k, v] of headers)
    if (k !== null && k.length === TRACEPARENT_HEADER.length && k.toString('latin1') === TRACEPARENT_HEADER)
      return validTraceparent(v?.toString('latin1'));
  return undefined;
}

/** Log headers that carry a `traceparent` on, or none when it is missing or invalid. */
export function traceHeaders(traceparent: unknown): RecordHeader[] | undefined {
  const v = validTraceparent(traceparent);
  return v === undefined ? undefined : [{ key: TRACEPARENT_HEADER, value: Buffer.from(v, 'latin1') }];
}
