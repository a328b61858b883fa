// How Sluice's Kafka clients (kafkaSource, kafkaActionSink, scale-out workers) reach a cluster that
// needs TLS and SASL, and the `kafka://` / `kafkas://` URL forms of the CLI. Shared by the
// connectors and the actions layer, so both read URLs and credentials the same way. Passwords
// come from the environment (SLUICE_KAFKA_PASSWORD), never from a URL, and never appear in errors.

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { SluiceError } from '../core/errors.js';

export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** TLS and SASL settings of a Kafka client. Neither: plain TCP, no authentication. */
export interface KafkaSecurity {
  /** SASL credentials; `mechanism` defaults to PLAIN. */
  sasl?: { mechanism?: KafkaSaslMechanism; username: string; password: string };
  /** TLS: `true` trusts the system's CAs (and NODE_EXTRA_CA_CERTS), or Node TLS options such as `{ ca }`. */
  tls?: boolean | ConnectionOptions;
}

/** A Kafka URL's parts: `kafka[s]://[user@]host:port[,host:port...]/topic[?query]`. */
export interface KafkaUrl {
  brokers: string[];
  topic: string;
  query: URLSearchParams;
  security: KafkaSecurity;
}

/** A bad Kafka URL or setting; the message never holds a password. */
export class KafkaUrlError extends SluiceError {
  declare readonly code: 'SLUICE_KAFKA_URL';
  /** What is wrong, without the URL (for callers that quote the URL themselves). */
  readonly reason: string;
  constructor(message: string, reason = message) {
    super('SLUICE_KAFKA_URL', message);
    this.name = 'KafkaUrlError';
    this.reason = reason;
  }
}

/** An error about `shown` (the URL with any credentials cut). */
function badKafkaUrl(shown: string, reason: string): KafkaUrlError {
  return new KafkaUrlError(`"${shown}": ${reason}`, reason);
}

/**
 * The options a @platformatic/kafka client takes for `security` (spread into its constructor).
 *
 * @example
 * new Producer({ clientId: 'x', bootstrapBrokers: ['h:9093'], ...clientSecurity({ tls: true }) });
 */
export function clientSecurity(security: KafkaSecurity): {
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  tls?: ConnectionOptions;
} {
  const { sasl, tls } = security;
  return {
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism ?? 'PLAIN', username: sasl.username, password: sasl.password } }
      : {}),
    ...(tls ? { tls: tls === true ? {} : tls } : {}),
  };
}

function mechanismOf(value: string | null | undefined, where: string): KafkaSaslMechanism {
  if (value === null || value === undefined || value === '') return 'PLAIN';
  const upper = value.toUpperCase();
  if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(upper)) {
    throw new KafkaUrlError(`${where} is "${value}"; use one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
  }
  return upper as KafkaSaslMechanism;
}

function caFile(path: string): ConnectionOptions {
  try {
    return { ca: readFileSync(path) };
  } catch (err) {
    throw new KafkaUrlError(
      `cannot read the CA file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * Security settings from the environment, for `sluice run --brokers` and anything else given
 * bare host:port lists: SLUICE_KAFKA_USER + SLUICE_KAFKA_PASSWORD (SASL),
 * SLUICE_KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; default PLAIN),
 * SLUICE_KAFKA_TLS=1 (TLS) and SLUICE_KAFKA_CA=FILE (a CA to trust; implies TLS).
 *
 * @example
 * kafkaSource({ brokers: 'h:9093', topic: 't', groupId: 'g', ...kafkaSecurityFromEnv() });
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const user = env.SLUICE_KAFKA_USER;
  const ca = env.SLUICE_KAFKA_CA;
  const tls = ca ? caFile(ca) : env.SLUICE_KAFKA_TLS === '1' || env.SLUICE_KAFKA_TLS === 'true';
  return {
    ...(user
      ? {
          sasl: {
            mechanism: mechanismOf(env.SLUICE_KAFKA_SASL_MECHANISM, 'SLUICE_KAFKA_SASL_MECHANISM'),
            username: user,
            password: env.SLUICE_KAFKA_PASSWORD ?? '',
          },
        }
      : {}),
    ...(tls ? { tls } : {}),
  };
}

/**
 * Parses `kafka://host:port[,host:port...]/topic` (plain TCP) or `kafkas://…` (TLS). A user
 * before the hosts (`kafkas://alice@host:9093/topic`) turns SASL on, with the password from
 * SLUICE_KAFKA_PASSWORD; `?sasl=scram-sha-256|scram-sha-512|plain` picks the mechanism (default
 * PLAIN) and `?ca=FILE` a CA to trust. Without a user in the URL, SLUICE_KAFKA_USER and the other
 * variables of {@link kafkaSecurityFromEnv} apply. Other query parameters are left to the caller.
 *
 * @example
 * parseKafkaUrl('kafkas://alice@broker:9093/transactions?sasl=scram-sha-512');
 * // { brokers: ['broker:9093'], topic: 'transactions', security: { tls: true, sasl: { mechanism: 'SCRAM-SHA-512', ... } } }
 */
export function parseKafkaUrl(url: string, env: NodeJS.ProcessEnv = process.env): KafkaUrl {
  const m = /^(kafkas?):\/\/(?:([^@/?#]*)@)?([^@/?#]+)\/([^?#]+)(\?[^#]*)?$/i.exec(url);
  const shown = url.replace(/\/\/[^@/?#]*@/, '//…@'); // never echo what may be credentials
  if (m === null) {
    throw badKafkaUrl(
      shown,
      'not a Kafka URL: give the topic after the hosts, kafka://host:port[,host:port...]/topic or kafkas://[user@]host:port/topic',
    );
  }
  const [, scheme, userinfo, hosts, topic, search] = m;
  if (userinfo !== undefined && userinfo.includes(':')) {
    throw badKafkaUrl(
      shown,
      'a password does not belong in the URL (it would show in shell history and process lists); give the user only and set SLUICE_KAFKA_PASSWORD',
    );
  }
  const query = new URLSearchParams(search ?? '');
  const brokers = hosts!
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  const secure = scheme!.toLowerCase() === 'kafkas';
  const defaultPort = secure ? 9093 : 9092;
  const fromEnv = kafkaSecurityFromEnv(env);
  const ca = query.get('ca');
  if (ca !== null && !secure) throw badKafkaUrl(shown, '?ca= needs TLS: use kafkas://');
  const tls = ca !== null ? caFile(ca) : secure ? (fromEnv.tls ?? true) : fromEnv.tls;
  const user = userinfo !== undefined && userinfo !== '' ? decodeURIComponent(userinfo) : undefined;
  const sasl = user
    ? {
        mechanism: mechanismOf(query.get('sasl'), '?sasl='),
        username: user,
        password: env.SLUICE_KAFKA_PASSWORD ?? '',
      }
    : fromEnv.sasl && query.get('sasl') !== null
      ? { ...fromEnv.sasl, mechanism: mechanismOf(query.get('sasl'), '?sasl=') }
      : fromEnv.sasl;
  if (sasl && sasl.password === '') {
    throw badKafkaUrl(shown, `it names user "${sasl.username}": set SLUICE_KAFKA_PASSWORD to its password`);
  }
  return {
    brokers: brokers.map((b) => (/:\d+$/.test(b) ? b : `${b}:${defaultPort}`)),
    topic: decodeURIComponent(topic!),
    query,
    security: { ...(sasl ? { sasl } : {}), ...(tls ? { tls } : {}) },
  };
}
/**
 * {@link parseKafkaUrl}, with a bad URL reported as the caller's own error (a source's, a
 * sink's), made from what is wrong.
 *
 * @example
 * const { brokers, topic } = parseKafkaUrlOr(url, (why) => new ActionError('SLUICE_SINK_URL', why));
 */
export function parseKafkaUrlOr(url: string, fail: (reason: string) => Error): KafkaUrl {
  try {
    return parseKafkaUrl(url);
  } catch (err) {
    if (err instanceof KafkaUrlError) throw fail(err.reason);
    throw err;
  }
}

export { installKafkaCodecs, loadKafkaClient } from './load.js';
