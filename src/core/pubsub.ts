// Google Cloud Pub/Sub, shared by the source (connectors) and the sink (actions): the client
// module, loaded on first use, and the one URL form both accept.
import { SluiceError } from './errors.js';

type PubSubModule = typeof import('@google-cloud/pubsub');

let loading: Promise<PubSubModule> | undefined;

/**
 * The `@google-cloud/pubsub` module, imported on the first Pub/Sub source or sink rather than
 * with `sluice`: it is an optional peer dependency (it and gRPC add some 20 MB to an install
 * that most pipelines do not need), so its absence is an error that says how to install it.
 * `what` names the caller in that message.
 *
 * @example
 * const { PubSub } = await loadPubSub('pubsubSource');
 */
export function loadPubSub(what: string): Promise<PubSubModule> {
  loading ??= import('@google-cloud/pubsub').catch((cause: unknown) => {
    loading = undefined;
    const missing = (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    throw new SluiceError(
      missing ? 'SLUICE_OPTION_DEPENDENCY_MISSING' : 'SLUICE_SOURCE_UNAVAILABLE',
      missing
        ? `${what}: Google Pub/Sub needs the @google-cloud/pubsub package, which is not installed: npm install @google-cloud/pubsub@5 (Node >= 20.19; version 6 needs Node 22)`
        : `${what}: could not load @google-cloud/pubsub: ${(cause as Error).message}`,
      { cause },
    );
  });
  return loading;
}

/** What a `pubsub://` URL names. */
export interface PubSubUrl {
  project: string;
  kind: 'subscriptions' | 'topics';
  /** The short name (the last path segment). */
  name: string;
  /** The full resource name, `projects/P/subscriptions/S` or `projects/P/topics/T`. */
  path: string;
  query: URLSearchParams;
}

/** Pub/Sub's own rules for topic and subscription ids: 3-255 characters, starting with a letter. */
const ID = /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;
/** Project ids (emulator projects may be any short name; domain-scoped ids hold ":" and "."). */
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9.:_-]*$/;

/**
 * Parses `pubsub://projects/PROJECT/subscriptions/SUB` or `pubsub://projects/PROJECT/topics/TOPIC`
 * (the resource name after `pubsub://`, as gcloud prints it), with options in the query. Throws
 * an Error whose message says what to fix.
 *
 * @example
 * parsePubSubUrl('pubsub://projects/demo/subscriptions/tx?maxMessages=5000').path; // 'projects/demo/subscriptions/tx'
 */
export function parsePubSubUrl(url: string): PubSubUrl {
  const m = /^pubsub:\/\/projects\/([^/?#]+)\/(subscriptions|topics)\/([^/?#]+)(\?[^#]*)?$/i.exec(url);
  if (!m)
    throw new Error(
      'give the resource name after pubsub://, e.g. pubsub://projects/my-project/subscriptions/my-sub (source) or pubsub://projects/my-project/topics/my-topic (sink)',
    );
  const [, project, kind, name, query] = m as unknown as [string, string, string, string, string?];
  if (!PROJECT.test(project)) throw new Error(`"${project}" is not a Google Cloud project id`);
  if (!ID.test(name) || name.startsWith('goog'))
    throw new Error(
      `"${name}" is not a Pub/Sub id (3-255 letters, digits, - _ . ~ + %, starting with a letter, not "goog")`,
    );
  const k = kind.toLowerCase() as PubSubUrl['kind'];
  return {
    project,
    kind: k,
    name,
    path: `projects/${project}/${k}/${name}`,
    query: new URLSearchParams(query ?? ''),
  };
}

/** A positive integer query option, or `undefined` when absent. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`?${name}= must be a positive integer, got "${v}"`);
  return n;
}
