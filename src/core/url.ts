// URL forms shared by the sources (connectors/source-url.ts, connectors/ingest.ts) and the
// action sinks (actions/sink-url.ts): parsed here once, so `file:` paths, schemes and
// "scheme://host/what" mean the same on both sides. Kafka URLs, which carry TLS and SASL
// settings, are parsed in kafka-client (parseKafkaUrl).
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrls } from './redact.js';

/**
 * The scheme of `url`, lower case, or undefined when it has none.
 *
 * @example
 * urlScheme('Kafka://h:9092/t'); // 'kafka'
 */
export function urlScheme(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
}

/**
 * `file:rel/path`, `file:/abs/path` or `file:///abs/path` as an absolute path (a relative one
 * resolved from the working directory); undefined when no path follows `file:`.
 *
 * @example
 * fileUrlPath('file:out/alerts.jsonl'); // '/cwd/out/alerts.jsonl'
 */
export function fileUrlPath(url: string): string | undefined {
  const rest = url.slice('file:'.length);
  if (rest === '') return undefined;
  const path = rest.startsWith('//') ? fileURLToPath(url) : rest;
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * `log:DIR/TOPIC` (also `log:///abs/DIR/TOPIC`): a topic of the embedded log in DIR, the last
 * path segment naming the topic; undefined when there is no directory and topic.
 *
 * @example
 * logUrlParts('log:data/log/transactions'); // { dir: '/cwd/data/log', topic: 'transactions' }
 */
export function logUrlParts(url: string): { dir: string; topic: string } | undefined {
  const path = fileUrlPath('file:' + url.slice('log:'.length));
  if (path === undefined || url.endsWith('/')) return undefined;
  const cut = path.lastIndexOf('/');
  const topic = path.slice(cut + 1);
  return cut > 0 && topic !== '' ? { dir: path.slice(0, cut), topic } : undefined;
}

/**
 * `scheme://authority/what[?query]` split into its base (`scheme://authority`), the decoded
 * `what` (a topic filter, subject or stream name) and the query; undefined when nothing follows
 * the authority.
 *
 * @example
 * splitUrlPath('redis://127.0.0.1:6379/tx?group=g'); // { base: 'redis://127.0.0.1:6379', rest: 'tx', query }
 */
export function splitUrlPath(
  url: string,
): { base: string; rest: string; query: URLSearchParams } | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]+)\/([^?#]+)(\?[^#]*)?$/i.exec(url);
  if (!m) return undefined;
  return { base: m[1]!, rest: decodeURIComponent(m[2]!), query: new URLSearchParams(m[3] ?? '') };
}

/**
 * The message of a bad source or sink URL: the URL without credentials, what is wrong, and the
 * forms that work.
 *
 * @example
 * badUrlMessage('sink', 'ftp://x', 'scheme "ftp:" is not supported', ['file:path.jsonl']);
 */
export function badUrlMessage(kind: string, url: string, why: string, forms: readonly string[]): string {
  return redactUrls(`${kind} URL "${url}": ${why}; use one of ${forms.join(', ')}`);
}
