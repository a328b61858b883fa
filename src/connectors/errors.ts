import { SluiceError } from '../core/errors.js';
import { redactUrls } from '../core/redact.js';

/** Stable codes of the connectors' errors; a code is never reused for another meaning. */
export type ConnectorErrorCode =
  /** A source URL that cannot be parsed or names an unsupported scheme. */
  | 'SLUICE_SOURCE_URL'
  /** The outside system (broker, server, file) cannot be reached or read. */
  | 'SLUICE_SOURCE_UNAVAILABLE'
  /** The installed client library lacks what a connector relies on (MQTT.js's `_sendPacket`). */
  | 'SLUICE_SOURCE_CLIENT_UNSUPPORTED'
  /** The dead-letter topic named does not exist in the log. */
  | 'SLUICE_DLQ_NOT_FOUND'
  /** The dead-letter signing key (SLUICE_DLQ_KEY or the log's dlq.key) is missing, short or damaged. */
  | 'SLUICE_DLQ_KEY_INVALID'
  /** A pipeline that cannot run scaled out as written (e.g. state before any keyBy). */
  | 'SLUICE_SCALE_UNSUPPORTED'
  /** The scale-out topics (input, changelog, repartition) cannot be read or do not match. */
  | 'SLUICE_SCALE_TOPICS'
  /** The schema registry refused Sluice (bad credentials, a bad URL): fix the settings. */
  | 'SLUICE_SCHEMA_REGISTRY_REFUSED'
  /** The schema registry cannot answer now (unreachable, timed out, 5xx, 429). */
  | 'SLUICE_SCHEMA_REGISTRY_UNAVAILABLE'
  /** The schema registry has no schema with the record's id. */
  | 'SLUICE_SCHEMA_UNKNOWN_ID'
  /** A sink URL's encoding options (?format=, &registry=, &schema=) that cannot be used. */
  | 'SLUICE_SINK_FORMAT';

/**
 * An error of a source or of the dead-letter tools: a stable `code`, and a message that says
 * what to fix.
 *
 * @example
 * try { await run.done } catch (e) { if (e instanceof ConnectorError && e.code === 'SLUICE_SOURCE_UNAVAILABLE') retryLater() }
 */
export class ConnectorError extends SluiceError {
  declare readonly code: ConnectorErrorCode;
  constructor(code: ConnectorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConnectorError';
  }
}

/** "host:port" of a URL for messages, never its credentials. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return u.host;
  } catch {
    return redactUrls(url);
  }
}

/** Whether a client error (possibly nested) says no broker could be connected to. */
export function unreachable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const x = e as { message?: string; code?: string; errors?: unknown[]; cause?: unknown };
    if (
      /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|Cannot connect to any broker/i.test(
        `${x.code ?? ''} ${x.message ?? ''}`,
      )
    )
      return true;
    return (x.errors ?? []).some(walk) || walk(x.cause);
  };
  return walk(err);
}
