import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  SASL_MECHANISMS,
  saslUsersFromEnv,
  saslUsersFromFile,
  startBroker,
  BrokerError,
  type RunningBroker,
  startBrokerHealth,
  type SaslMechanism,
} from '../../broker/index.js';
import type { FsyncPolicy } from '../../log/index.js';
import { intFlag, parseFlags, stringFlag, UsageError, type FlagValue } from '../args.js';
import { BROKER_LIMIT_FLAGS, BROKER_LIMITS_USAGE, brokerLimitOptions } from './broker-limits.js';

export const BROKER_USAGE = `sluice broker [options]

Serves the embedded log over the Kafka wire protocol: kcat, librdkafka, kafka-python,
@platformatic/kafka and other Kafka clients can produce, consume and use consumer groups.

  --port N          TCP port (default 9092; 0 picks a free one)
  --host H          interface to bind (default 127.0.0.1; 0.0.0.0 accepts remote clients)
  --data DIR        log directory (default .sluice/broker)
  --partitions N    partitions of auto-created topics (default 1)
  --fsync P         batch | interval | never (default interval; batch = durable on ack)
  --max-request-bytes N  largest request accepted (default 104857600)
  --no-auto-create  refuse unknown topics instead of creating them
  --retention-ms N     delete closed segments older than N ms (default: keep forever)
  --retention-bytes N  keep at most about N bytes per partition (default: no limit)
  --segment-bytes N    roll segments at N bytes (default 67108864)
  --segment-ms N       roll segments at N ms of age (default: by size only)
  --tls-cert FILE      serve TLS with this PEM certificate (chain); needs --tls-key
  --tls-key FILE       the certificate's PEM private key
  --users-file FILE    SASL users, one "user:password" per line (instead of SLUICE_BROKER_USERS)
  --sasl-mechanisms L  mechanisms offered, comma-separated (default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512)
  --schema-registry-port N  serve the Confluent Schema Registry REST API on N, on --host, schemas
                       kept in --data (default 8081; 0 when --port is 0; "off" disables it).
                       If the default port is taken the broker warns and runs without it.
                       With SASL users, registry requests need HTTP Basic user:password.
  --health-port N      serve /healthz and /readyz (JSON) over HTTP on this port (0 = any free one)
  --health-host H      interface for it (default 127.0.0.1; the kubelet needs the pod's address)

${BROKER_LIMITS_USAGE}
SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) is required when users are given: --users-file, or
SLUICE_BROKER_USERS="alice:secret,bob:pw" (or SLUICE_BROKER_USERS_FILE=FILE).
With TLS and SASL, clients use security.protocol=SASL_SSL; PLAIN without TLS sends passwords in clear.
Prints "listening on HOST:PORT" when ready; Ctrl-C or SIGTERM shuts down cleanly.
`;

/** Whether `address` ("host:port") only accepts connections from this machine. */
function isLoopback(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function broker(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    port: { type: 'string' },
    'health-port': { type: 'string' },
    'health-host': { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    partitions: { type: 'string' },
    fsync: { type: 'string' },
    'max-request-bytes': { type: 'string' },
    'no-auto-create': { type: 'boolean' },
    'retention-ms': { type: 'string' },
    'retention-bytes': { type: 'string' },
    'segment-bytes': { type: 'string' },
    'segment-ms': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'users-file': { type: 'string' },
    'sasl-mechanisms': { type: 'string' },
    'schema-registry-port': { type: 'string' },
    ...BROKER_LIMIT_FLAGS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(BROKER_USAGE);
    return 0;
  }
  const fsync = stringFlag(values.fsync, 'fsync', 'interval');
  if (fsync !== 'batch' && fsync !== 'interval' && fsync !== 'never') {
    throw new UsageError(`--fsync must be batch, interval or never, got "${fsync}"`);
  }
  const dataDir = resolve(stringFlag(values.data, 'data', '.sluice/broker'));
  const usersFile = optionalString(values['users-file']) ?? process.env.SLUICE_BROKER_USERS_FILE;
  const users = usersFile !== undefined ? saslUsersFromFile(usersFile) : saslUsersFromEnv();
  const mechanisms = saslMechanisms(optionalString(values['sasl-mechanisms']));
  const tls = tlsFiles(optionalString(values['tls-cert']), optionalString(values['tls-key']));
  const port = intFlag(values.port, 'port', 9092, 0, 65535);
  const registryFlag = optionalString(values['schema-registry-port']);
  // The zero-setup default has a registry (as Redpanda's does): 8081, or any free port beside --port 0.
  const registryPort =
    registryFlag === 'off'
      ? null
      : intFlag(registryFlag, 'schema-registry-port', port === 0 ? 0 : 8081, 0, 65535);
  const options = {
    port,
    host: stringFlag(values.host, 'host', '127.0.0.1'),
    dataDir,
    partitions: intFlag(values.partitions, 'partitions', 1, 1, 100_000),
    fsync: fsync as FsyncPolicy,
    maxRequestBytes: intFlag(
      values['max-request-bytes'],
      'max-request-bytes',
      100 * 1024 * 1024,
      1024,
      2 ** 31 - 1,
    ),
    autoCreateTopics: !values['no-auto-create'],
    logOptions: {
      segmentBytes: intFlag(values['segment-bytes'], 'segment-bytes', 64 << 20, 128, 2 ** 31 - 1),
      ...(values['segment-ms'] !== undefined
        ? { segmentMs: intFlag(values['segment-ms'], 'segment-ms', 0, 1) }
        : {}),
      ...(values['retention-ms'] !== undefined
        ? { retentionMs: intFlag(values['retention-ms'], 'retention-ms', 0, 0) }
        : {}),
      ...(values['retention-bytes'] !== undefined
        ? { retentionBytes: intFlag(values['retention-bytes'], 'retention-bytes', 0, 0) }
        : {}),
    },
    ...brokerLimitOptions(values),
    ...(users ? { sasl: { users, mechanisms } } : {}),
    ...(tls ? { tls } : {}),
    onWarning: (m: string) => process.stderr.write(m + '\n'),
  };
  const withRegistry =
    registryPort === null ? options : { ...options, schemaRegistry: { port: registryPort } };
  let running: RunningBroker;
  try {
    running = await startBroker(withRegistry);
  } catch (err) {
    // Only the default port may be busy without failing: an asked-for port is an error.
    const busy = err instanceof BrokerError && /^schema registry: cannot listen/.test(err.message);
    if (!busy || registryFlag !== undefined || registryPort === null) throw err;
    process.stderr.write(
      `sluice broker: the schema registry's default port ${registryPort} is in use, running without it (set --schema-registry-port)\n`,
    );
    running = await startBroker(options);
  }
  if (!users && !isLoopback(running.address))
    process.stderr.write(
      `sluice broker: WARNING: listening on ${running.address} without authentication: anyone who can reach it can read and write every topic${running.schemaRegistry ? ' (and register schemas)' : ''}; set SLUICE_BROKER_USERS="user:password" to require SASL/PLAIN, or bind --host 127.0.0.1\n`,
    );
  if (running.schemaRegistry)
    process.stdout.write(`sluice schema registry at ${running.schemaRegistry.url}\n`);
  const health =
    values['health-port'] === undefined
      ? undefined
      : await startBrokerHealth(running, {
          port: intFlag(values['health-port'], 'health-port', 0, 0, 65535),
          host: stringFlag(values['health-host'], 'health-host', '127.0.0.1'),
          dataDir,
        }).catch(async (err: unknown) => {
          await running.close();
          throw err;
        });
  if (health) process.stdout.write(`sluice broker health: ${health.url}healthz, ${health.url}readyz\n`);
  process.stdout.write(
    `sluice broker listening on ${running.address} (data ${dataDir}, fsync ${fsync}${tls ? ', TLS' : ''}${users ? `, SASL ${mechanisms.join('/')} for ${Object.keys(users).length} user(s)` : ''})\n`,
  );
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  process.stderr.write(`sluice broker: ${signal}, shutting down\n`);
  await health?.close();
  await running.close();
  return 0;
}

function optionalString(value: FlagValue): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function saslMechanisms(flag: string | undefined): SaslMechanism[] {
  if (flag === undefined) return [...SASL_MECHANISMS];
  const names = flag.split(',').map((m) => m.trim().toUpperCase());
  const bad = names.filter((m) => !(SASL_MECHANISMS as readonly string[]).includes(m));
  if (bad.length > 0 || names.length === 0) {
    throw new UsageError(`--sasl-mechanisms takes ${SASL_MECHANISMS.join(', ')}; got "${flag}"`);
  }
  return names as SaslMechanism[];
}

function tlsFiles(cert: string | undefined, key: string | undefined): { cert: Buffer; key: Buffer } | null {
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined || key === undefined) throw new UsageError('--tls-cert and --tls-key go together');
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UsageError(
        `${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  return { cert: read(cert, '--tls-cert'), key: read(key, '--tls-key') };
}
