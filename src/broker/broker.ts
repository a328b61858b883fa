// `startBroker`: the Kafka wire protocol served over TCP on top of an embedded log.

import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Log } from '../log/index.js';
import { AppendNotifier } from './append-notifier.js';
import type { BrokerState } from './apis/api.js';
import { apiRanges, apiTable } from './apis/registry.js';
import { Connection } from './connection.js';
import { BrokerError } from './errors.js';
import { AuthThrottle, clientAddress, ConnectionLimiter } from './limits.js';
import { GroupCoordinator } from './groups/coordinator.js';
import { resolveBrokerOptions, type BrokerOptions } from './options.js';
import { ProducerTable } from './producers.js';
import { ScramCredentials } from './scram.js';
import { startSchemaRegistry, type RunningSchemaRegistry } from './schema-registry/server.js';
import { TopicManager } from './topics.js';
import { TransactionCoordinator } from './txn/coordinator.js';

/** A listening broker. */
export interface RunningBroker {
  /** The bound interface. */
  readonly host: string;
  /** The bound port (the one picked when asked for port 0). */
  readonly port: number;
  /** `host:port`, what clients use as bootstrap servers. */
  readonly address: string;
  /** The log being served. */
  readonly log: Log;
  /** The embedded Schema Registry, when `schemaRegistry` was given. */
  readonly schemaRegistry: RunningSchemaRegistry | undefined;
  /** Open client connections. */
  connectionCount(): number;
  /** Stops listening, closes every connection and, when the broker opened the log, closes it. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Starts a single-node Kafka broker serving the embedded log: any Kafka client, `kcat` or
 * `kafka-python` can produce to it and consume from it, with consumer groups.
 *
 * @example
 * const broker = await startBroker({ port: 0, dataDir: './data/broker', partitions: 3 });
 * console.log(`kcat -b ${broker.address} -t orders -P`);
 * await broker.close();
 */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const opts = resolveBrokerOptions(options);
  const ownsLog = options.log === undefined;
  const log =
    options.log ??
    Log.open(options.dataDir!, { ...options.logOptions, fsync: options.fsync, onWarning: opts.onWarning });
  let producers: ProducerTable;
  try {
    producers = new ProducerTable(log.dir);
  } catch (err) {
    if (ownsLog) log.close();
    throw err;
  }
  const appends = new AppendNotifier();
  const groups = new GroupCoordinator(log, opts);
  const topics = new TopicManager(
    log,
    { partitions: opts.partitions, autoCreate: opts.autoCreateTopics },
    (t, n) => {
      for (let p = 0; p < n; p++) appends.appended(t, p); // waiting fetches answer UNKNOWN_TOPIC now
    },
  );
  let txns: TransactionCoordinator;
  try {
    // Finishes transactions decided before a crash: their markers go to the log now.
    txns = new TransactionCoordinator({ log, producers, topics, appends, warn: opts.onWarning });
  } catch (err) {
    if (ownsLog) log.close();
    throw err;
  }
  const table = apiTable(opts.sasl !== null);
  const state: BrokerState = {
    log,
    apiRanges: apiRanges(table),
    opts,
    topics,
    groups,
    producers,
    txns,
    appends,
    scram: opts.sasl?.mechanisms.some((m) => m.startsWith('SCRAM-'))
      ? new ScramCredentials(opts.sasl.users)
      : null,
    warn: opts.onWarning,
  };
  const connections = new Set<Connection>();
  const limiter = new ConnectionLimiter(opts.maxConnections, opts.maxConnectionsPerIp, opts.onWarning);
  const throttle =
    opts.sasl === null ? undefined : new AuthThrottle(opts.authFailureDelayMs, opts.maxAuthFailureDelayMs);
  let nextId = 0;
  const accept = (socket: Socket) => {
    const address = clientAddress(socket.remoteAddress);
    if (!limiter.admit(address)) return void socket.destroy();
    const conn = new Connection(socket, ++nextId, state, table, throttle);
    connections.add(conn);
    conn.onClose(() => {
      connections.delete(conn);
      limiter.release(address);
    });
  };
  // With TLS, a connection is handed over once its handshake is done (within 10 s); a failed
  // handshake (a plain-TCP client, a bad certificate) is that client's problem, reported, never fatal.
  const server: Server =
    opts.tls === null
      ? createServer(accept)
      : createTlsServer(
          { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 },
          accept,
        ).on('tlsClientError', (err, socket) => {
          opts.onWarning(
            `sluice broker: TLS handshake failed from ${socket.remoteAddress ?? '?'}: ${err.message}`,
          );
          socket.destroy();
        });
  try {
    await listen(server, opts.port, opts.host);
  } catch (err) {
    txns.close();
    if (ownsLog) log.close();
    throw new BrokerError(
      'SLUICE_BROKER_LISTEN_FAILED',
      `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}; pick another --port (0 = any free one) or stop what uses it`,
      { cause: err },
    );
  }
  server.on('error', (err) => opts.onWarning(`sluice broker: server error: ${err.message}`));
  let registry: RunningSchemaRegistry | undefined;
  if (opts.schemaRegistry !== null) {
    try {
      registry = await startSchemaRegistry({
        ...opts.schemaRegistry,
        host: opts.host,
        dir: log.dir,
        users: opts.sasl?.users ?? null,
        warn: opts.onWarning,
      });
    } catch (err) {
      await new Promise((resolve) => server.close(resolve));
      if (ownsLog) log.close();
      throw err;
    }
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  let closing: Promise<void> | undefined;
  return {
    host: opts.host,
    port,
    address: `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    log,
    schemaRegistry: registry,
    connectionCount: () => connections.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of [...connections]) c.destroy();
        groups.shutdown();
        txns.close();
      })
        .then(() => registry?.close())
        .then(() => {
          if (ownsLog) log.close();
        });
      return closing;
    },
  };
}
