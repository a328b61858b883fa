// Options of the broker: defaults, validation (once, at start, with messages that say what to
// do) and the SASL user list from the environment.

import { readFileSync } from 'node:fs';
import type { FsyncPolicy, Log, LogOptions } from '../log/index.js';
import { BrokerError } from './errors.js';
import { SASL_MECHANISMS, type SaslMechanism } from './sasl.js';

/** SASL settings: the users allowed in (name -> password) and the mechanisms offered. */
export interface SaslOptions {
  users: Record<string, string>;
  /** Default all: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512. PLAIN sends the password: use it with TLS. */
  mechanisms?: readonly SaslMechanism[];
}

/** TLS for the listener: PEM certificate chain and private key (contents, not paths). */
export interface BrokerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

/** Options of {@link startBroker}. Give either `dataDir` (the broker opens the log) or `log`. */
export interface BrokerOptions {
  /** TCP port; 0 picks a free one. Default 9092. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (use 0.0.0.0 to accept remote clients). */
  host?: string;
  /** Log directory to open (and close on shutdown). */
  dataDir?: string;
  /** An open log to serve instead of `dataDir`; the caller keeps ownership of it. */
  log?: Log;
  /** Partitions of auto-created topics and of CreateTopics with -1. Default 1. */
  partitions?: number;
  /** With `dataDir`: the log's fsync policy. Default 'interval'. */
  fsync?: FsyncPolicy;
  /** With `dataDir`: other log options (segment size, max batch size...). */
  logOptions?: Omit<LogOptions, 'fsync'>;
  /** Create unknown topics on Metadata (when the client allows it) and on Produce. Default true. */
  autoCreateTopics?: boolean;
  /** Largest request accepted; larger ones close the connection (checked on the size prefix, before buffering). Default 100 MiB. */
  maxRequestBytes?: number;
  /** With SASL on: largest request accepted before the connection is authenticated (the handshake and ApiVersions fit); at most maxRequestBytes. Default 64 KiB. */
  maxUnauthenticatedRequestBytes?: number;
  /** A request must arrive whole within this many ms of its first byte, else the connection is closed. Default 30 s. */
  requestReceiveTimeoutMs?: number;
  /** A connection with nothing sent or pending for this long is closed (Kafka's connections.max.idle.ms). 0 = never. Default 10 min. */
  idleTimeoutMs?: number;
  /** With SASL on: a connection must authenticate within this many ms. Default 30 s. */
  authTimeoutMs?: number;
  /** Open connections at most; more are closed at once. Default 1000. */
  maxConnections?: number;
  /** Open connections from one client address at most. Default 200. */
  maxConnectionsPerIp?: number;
  /** Delay before the next attempt from an address after a failed SASL authentication, doubling per failure. Default 100 ms. */
  authFailureDelayMs?: number;
  /** Cap of that delay (at least authFailureDelayMs). Default 5000 ms. */
  maxAuthFailureDelayMs?: number;
  /** Require SASL authentication (PLAIN, SCRAM-SHA-256/512) with these users. Default: none. */
  sasl?: SaslOptions;
  /** Serve TLS instead of plain TCP (clients use security.protocol SSL or SASL_SSL). */
  tls?: BrokerTlsOptions;
  /** Host name put in Metadata; default the address the client connected to. */
  advertisedHost?: string;
  /** Port put in Metadata; default the listening port. */
  advertisedPort?: number;
  /** Bounds of consumer session timeouts (INVALID_SESSION_TIMEOUT outside). Default 1 s .. 30 min. */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Wait before the first rebalance of an empty group, so members starting together join one generation. Default 0. */
  initialRebalanceDelayMs?: number;
  /**
   * Also serve the Confluent Schema Registry REST API over HTTP on this port (0 = any free one),
   * keeping schemas in the log directory; bound to `host`. With `sasl` users, every request needs
   * HTTP Basic credentials of one of them. Default: off.
   */
  schemaRegistry?: { port: number; maxBodyBytes?: number };
  /** Receives warnings and notices. Default: console.warn. */
  onWarning?: (message: string) => void;
}

export interface ResolvedBrokerOptions {
  port: number;
  host: string;
  partitions: number;
  autoCreateTopics: boolean;
  maxRequestBytes: number;
  maxUnauthenticatedRequestBytes: number;
  requestReceiveTimeoutMs: number;
  idleTimeoutMs: number;
  authTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  authFailureDelayMs: number;
  maxAuthFailureDelayMs: number;
  sasl: { users: Record<string, string>; mechanisms: readonly SaslMechanism[] } | null;
  tls: BrokerTlsOptions | null;
  advertisedHost: string | null;
  advertisedPort: number | null;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
  schemaRegistry: { port: number; maxBodyBytes: number } | null;
  onWarning: (message: string) => void;
}

/** This broker's node id in Metadata and FindCoordinator. */
export const NODE_ID = 0;
export const CLUSTER_ID = 'sluice-embedded';

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new BrokerError(
      'SLUICE_BROKER_INVALID_OPTION',
      `broker option ${name} is ${String(value)}; use an integer from ${min} to ${max}`,
    );
  }
  return v;
}

export function resolveBrokerOptions(o: BrokerOptions): ResolvedBrokerOptions {
  if ((o.dataDir === undefined) === (o.log === undefined)) {
    throw new BrokerError(
      'SLUICE_BROKER_INVALID_OPTION',
      'startBroker needs exactly one of dataDir (a directory to open) or log (an open Log)',
    );
  }
  if (o.log !== undefined && (o.fsync !== undefined || o.logOptions !== undefined)) {
    throw new BrokerError(
      'SLUICE_BROKER_INVALID_OPTION',
      'fsync and logOptions apply when the broker opens the log (dataDir); set them on Log.open() instead',
    );
  }
  if (o.sasl !== undefined) {
    const users = o.sasl?.users;
    const ok =
      users !== null &&
      typeof users === 'object' &&
      Object.keys(users).length > 0 &&
      Object.entries(users).every(([u, p]) => u.length > 0 && typeof p === 'string' && p.length > 0);
    if (!ok) {
      throw new BrokerError(
        'SLUICE_BROKER_INVALID_OPTION',
        'sasl.users must map at least one non-empty user name to a non-empty password',
      );
    }
    const unknown = (o.sasl.mechanisms ?? []).filter((m) => !SASL_MECHANISMS.includes(m));
    if (unknown.length > 0 || o.sasl.mechanisms?.length === 0) {
      throw new BrokerError(
        'SLUICE_BROKER_INVALID_OPTION',
        `sasl.mechanisms must name some of ${SASL_MECHANISMS.join(', ')}; got ${JSON.stringify(o.sasl.mechanisms)}`,
      );
    }
  }
  if (o.tls !== undefined && (!o.tls?.cert || !o.tls?.key)) {
    throw new BrokerError('SLUICE_BROKER_INVALID_OPTION', 'tls needs both cert and key (PEM contents)');
  }
  const maxRequestBytes = int('maxRequestBytes', o.maxRequestBytes, 100 * 1024 * 1024, 1024, 2 ** 31 - 1);
  const maxConnections = int('maxConnections', o.maxConnections, 1000, 1, 1_000_000);
  const authFailureDelayMs = int('authFailureDelayMs', o.authFailureDelayMs, 100, 0, 60_000);
  const minSession = int('minSessionTimeoutMs', o.minSessionTimeoutMs, 1000, 1, 2 ** 31 - 1);
  return {
    port: int('port', o.port, 9092, 0, 65535),
    host: o.host ?? '127.0.0.1',
    partitions: int('partitions', o.partitions, 1, 1, 100_000),
    autoCreateTopics: o.autoCreateTopics ?? true,
    maxRequestBytes,
    // Never above maxRequestBytes: a stranger gets at most what a user gets.
    maxUnauthenticatedRequestBytes: Math.min(
      maxRequestBytes,
      int('maxUnauthenticatedRequestBytes', o.maxUnauthenticatedRequestBytes, 64 * 1024, 1024, 2 ** 31 - 1),
    ),
    requestReceiveTimeoutMs: int(
      'requestReceiveTimeoutMs',
      o.requestReceiveTimeoutMs,
      30_000,
      100,
      2 ** 31 - 1,
    ),
    idleTimeoutMs: int('idleTimeoutMs', o.idleTimeoutMs, 600_000, 0, 2 ** 31 - 1),
    authTimeoutMs: int('authTimeoutMs', o.authTimeoutMs, 30_000, 100, 2 ** 31 - 1),
    maxConnections,
    // Above maxConnections it changes nothing (the total cap applies first), so it is allowed.
    maxConnectionsPerIp: int('maxConnectionsPerIp', o.maxConnectionsPerIp, 200, 1, 1_000_000),
    authFailureDelayMs,
    maxAuthFailureDelayMs: Math.max(
      authFailureDelayMs,
      int('maxAuthFailureDelayMs', o.maxAuthFailureDelayMs, 5000, 0, 600_000),
    ),
    sasl: o.sasl ? { users: o.sasl.users, mechanisms: o.sasl.mechanisms ?? SASL_MECHANISMS } : null,
    tls: o.tls ?? null,
    advertisedHost: o.advertisedHost ?? null,
    advertisedPort:
      o.advertisedPort === undefined ? null : int('advertisedPort', o.advertisedPort, 0, 1, 65535),
    minSessionTimeoutMs: minSession,
    maxSessionTimeoutMs: int(
      'maxSessionTimeoutMs',
      o.maxSessionTimeoutMs,
      1_800_000,
      minSession,
      2 ** 31 - 1,
    ),
    initialRebalanceDelayMs: int('initialRebalanceDelayMs', o.initialRebalanceDelayMs, 0, 0, 300_000),
    schemaRegistry: o.schemaRegistry
      ? {
          port: int('schemaRegistry.port', o.schemaRegistry.port, 8081, 0, 65535),
          maxBodyBytes: int(
            'schemaRegistry.maxBodyBytes',
            o.schemaRegistry.maxBodyBytes,
            1 << 20,
            1024,
            1 << 30,
          ),
        }
      : null,
    onWarning: o.onWarning ?? ((m) => console.warn(m)),
  };
}

/**
 * Parses SASL users from `SLUICE_BROKER_USERS` ("alice:secret,bob:pw"); undefined when unset.
 * A password may contain ':' (the first one separates) but not ','.
 *
 * @example
 * startBroker({ dataDir: './data', sasl: saslUsersFromEnv() ? { users: saslUsersFromEnv()! } : undefined });
 */
export function saslUsersFromEnv(
  value = process.env.SLUICE_BROKER_USERS,
): Record<string, string> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const users: Record<string, string> = {};
  for (const entry of value.split(',')) {
    const at = entry.indexOf(':');
    const name = at < 0 ? '' : entry.slice(0, at).trim();
    if (at < 0 || name === '' || at === entry.length - 1) {
      // The entry is not echoed: it may hold a password.
      throw new BrokerError(
        'SLUICE_BROKER_INVALID_OPTION',
        'SLUICE_BROKER_USERS must look like "user:password,user2:password2" (an entry has no user or no password)',
      );
    }
    users[name] = entry.slice(at + 1);
  }
  return users;
}

/**
 * Reads SASL users from a file: one `user:password` per line (blank lines and `#` comments
 * skipped), so passwords need not sit in the environment. The file's contents are never echoed.
 *
 * @example
 * startBroker({ dataDir: './data', sasl: { users: saslUsersFromFile('/run/secrets/kafka-users') } });
 */
export function saslUsersFromFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BrokerError(
      'SLUICE_BROKER_INVALID_OPTION',
      `cannot read the SASL users file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const users: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = line.indexOf(':');
    if (at <= 0 || at === line.length - 1) {
      throw new BrokerError(
        'SLUICE_BROKER_INVALID_OPTION',
        `${path} line ${i + 1}: expected "user:password" (the line is not shown: it may hold a password)`,
      );
    }
    users[line.slice(0, at)] = line.slice(at + 1);
  });
  if (Object.keys(users).length === 0) {
    throw new BrokerError('SLUICE_BROKER_INVALID_OPTION', `${path} lists no "user:password" line`);
  }
  return users;
}
